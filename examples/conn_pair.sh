#!/bin/sh
# conn_listener served by conn_client, no Python involved (run by ctest as `sh conn_pair.sh DIR`):
# the listener's first line is its address, which the clients take; a wrong key is refused,
# then the right one talks, and 'shutdown' ends the listener.
set -u
"$1/conn_listener" 127.0.0.1:0 secret 2>&1 | {
    read -r address
    printf 'hello\n' | "$1/conn_client" "$address" wrong 2>&1
    echo "conn_client with a wrong key exited $?"
    printf 'hello\nshutdown\n' | "$1/conn_client" "$address" secret
    echo "conn_client exited $?"
    cat # what the listener says until it exits: its report of the wrong key
}
