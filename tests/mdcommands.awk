# Prints the shell commands of the ```sh blocks in one section of a Markdown file, one command a
# line: comment-only and blank lines dropped, backslash continuations joined. The section is the
# heading line given as -v section="## A short tour" (up to the next heading of the same level
# or above). Used by tests/cli/test_readme.sh and the e2e run, so that the documents' commands
# are the ones tested.
function level(line) { match(line, /^#+/); return RLENGTH }
BEGIN { inside = 0; code = 0; cmd = ""; want = level(section) }
/^#+ / && !code {
    if ($0 == section) { inside = 1; next }
    if (inside && level($0) <= want) inside = 0
}
!inside { next }
/^[ \t]*```/ {
    if (code) { code = 0 } else if ($0 ~ /^[ \t]*```sh[ \t]*$/) { code = 1 }
    next
}
!code { next }
{
    line = $0
    sub(/^[ \t]+/, "", line)
    if (cmd == "" && (line == "" || line ~ /^#/)) next
    if (line ~ /\\$/) { sub(/\\$/, "", line); cmd = cmd line; next }
    print cmd line
    cmd = ""
}
