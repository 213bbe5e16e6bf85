/*
 * startup_mps2.c - vector table and reset for the QEMU mps2-an386 test
 * image. The reset handler enables the FPU (the code is built for the
 * hard-float ABI) and hands over to newlib's rdimon crt0, which sets up
 * the C runtime through semihosting and calls main().
 */
#include <stdint.h>

void qemu_reset_handler(void);
void qemu_fault_handler(void);
void qemu_semihost_exit(int ok);
void _start(void);

extern uint32_t __stack_top;

#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023

void qemu_semihost_exit(int ok)
{
	/* AArch32 SYS_EXIT takes the reason itself in r1: QEMU exits 0 for
	 * ApplicationExit and 1 for anything else, which gates the test. */
	register uint32_t r0 __asm("r0") = SYS_EXIT;
	register uint32_t r1 __asm("r1") =
		ok ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUN_TIME_ERROR;

	__asm volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
	for (;;) {
	}
}

void qemu_fault_handler(void)
{
	qemu_semihost_exit(0);
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
	[0] = (void (*)(void))(uintptr_t)&__stack_top,
	[1] = qemu_reset_handler,
	[2 ... 15] = qemu_fault_handler,
};

void qemu_reset_handler(void)
{
	*(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
	__asm volatile("dsb\n\tisb" ::: "memory");
	_start();
}
