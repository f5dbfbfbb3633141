#!/bin/sh
# Entry point of the pytest-mp image: runs the command given, with shorthands.
#   IMAGE mp-coord ARGS...   IMAGE coord ARGS...    the coordinator
#   IMAGE mp-agent ARGS...   IMAGE agent ARGS...    an agent
#   IMAGE pytest ARGS...     IMAGE --mp ARGS...     the front end (a first argument
#                                                   starting with - is given to pytest)
#   IMAGE help                                      this text
#   IMAGE ANY COMMAND                               run as is (bash, python, ...)
set -e
case "${1:-help}" in
    help|-h|--help)
        sed -n '2,9s/^# \{0,1\}//p' "$0"
        exit 0 ;;
    coord) shift; set -- mp-coord "$@" ;;
    agent) shift; set -- mp-agent "$@" ;;
    -*) set -- pytest "$@" ;;
esac
exec "$@"
