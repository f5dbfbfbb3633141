//  How a connecting socket retries an endpoint with nobody listening yet. ZeroMQ's
//  default, a fixed 100 ms, is the gap an agent or a front end started together with
//  their coordinator waits when it connects before the coordinator has bound: most
//  of a small run's time to its first test. A short first retry, doubled each time,
//  joins at once locally and still backs off from a host that is down.
#ifndef MP_RECONNECT_H
#define MP_RECONNECT_H

#define MP_RECONNECT_FIRST_MS 5
#define MP_RECONNECT_MAX_MS 2000

#endif
