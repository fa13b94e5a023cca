/* libFuzzer target for the HTTP/1.x response parser and the body decoder (proto/http): the
 * request target's checks (see fuzz_http1_req.c) with responses; bits 3-4 of the control
 * byte pick the request method (GET, HEAD, CONNECT, POST), which changes the framing. */
#define FUZZ_HTTP1_RESPONSE 1
#include "fuzz_http1_req.c"
