/* doctor.h: `wactl doctor`, the checks of a production install (doctor.c). */
#ifndef DOCTOR_H
#define DOCTOR_H

int	 doctor_run(void);

#endif
