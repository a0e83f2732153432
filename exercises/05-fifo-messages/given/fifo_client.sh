#!/usr/bin/env bash
# fifo_client.sh - a client for fifo_server in a few lines of bash.
# Usage: fifo_client.sh DIR     (each line of stdin is sent; each reply is printed)
# Opens from-server (the FIFO it reads) first, as many shell scripts do: a server
# that opened to-server first with a blocking open() would deadlock with it.
exec 4<"$1/from-server" 3>"$1/to-server"
while IFS= read -r line; do
    printf '%s\n' "$line" >&3
    IFS= read -r reply <&4 || exit 1
    printf '%s\n' "$reply"
done
