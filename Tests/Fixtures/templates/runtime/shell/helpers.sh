# Sourced by the bootstrap: which shell runs it.
shell_name() {
    if [ -n "${BASH_VERSION:-}" ]; then echo bash; else echo other; fi
}
