/*
 * empty_fcgi.c: the transport ceiling for `make bench`.  A FastCGI
 * responder that reads nothing and answers 200, run behind the same nginx
 * and spawn-fcgi as wa-fcgi, so the ratio shows what our own work costs.
 */
#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 3\r\n\r\n{}\n", r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
