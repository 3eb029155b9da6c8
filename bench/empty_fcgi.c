/*
 * empty_fcgi.c: the transport ceiling for `make bench`.  A FastCGI
 * responder that answers 200 without looking at the request, run behind
 * the same nginx and spawn-fcgi as wa-fcgi, so the ratio shows what our
 * own work costs.  It ends a request the way wa-fcgi does (fcgi/req.c:
 * rest of the input read, closed without libfcgi's wait for nginx to
 * close first): the ceiling is that of our transport, not a slower one.
 */
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request r;
	char rest[4096];

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 3\r\n\r\n{}\n", r.out);
		while (FCGX_GetStr(rest, sizeof(rest), r.in) > 0)
			;
		(void)FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	return 0;
}
