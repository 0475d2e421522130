/*
 * A minimal MC146818 CMOS real-time clock at ports 0x70/0x71: the host's
 * time in BCD, 24-hour mode, never "update in progress".  Without one, a
 * Linux guest that has no kvmclock waits out mc146818_avoid_UIP (up to a
 * second, measured) and boots with no wall-clock time.  Writes are
 * ignored: the guest cannot set the host's clock, and the CMOS RAM is
 * read-only zeros.  Register index writes also carry the NMI-mask bit 7,
 * which is dropped.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "devices.h"
#include "ports.h"
#include "../vm/machine.h"

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;	/* a port write/read pair from one vCPU */
};

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

/* UTC calendar fields from seconds since the epoch, by arithmetic alone:
 * glibc's gmtime_r reads /etc/localtime, and a vCPU thread may open no
 * file (its seccomp filter forbids it).  Days to civil date after Howard
 * Hinnant's public-domain algorithm. */
static void utc(time_t t, struct tm *tm)
{
	long days = (long)(t / 86400), secs = (long)(t % 86400);
	long z = days + 719468, era = z / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	long d = doy - (153 * mp + 2) / 5 + 1;
	long m = mp < 10 ? mp + 3 : mp - 9;
	long y = yoe + era * 400 + (m <= 2);

	tm->tm_sec = (int)(secs % 60);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_mday = (int)d;
	tm->tm_mon = (int)m - 1;
	tm->tm_year = (int)y - 1900;
	tm->tm_wday = (int)((days + 4) % 7);	/* 1970-01-01 was a Thursday */
}

static uint8_t rtc_read(uint8_t reg)
{
	struct tm tm;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	utc(ts.tv_sec, &tm);
	switch (reg) {
	case RTC_SECONDS: return bcd(tm.tm_sec);
	case RTC_MINUTES: return bcd(tm.tm_min);
	case RTC_HOURS: return bcd(tm.tm_hour);
	case RTC_WEEKDAY: return bcd(tm.tm_wday + 1);
	case RTC_DAY: return bcd(tm.tm_mday);
	case RTC_MONTH: return bcd(tm.tm_mon + 1);
	case RTC_YEAR: return bcd(tm.tm_year % 100);
	case RTC_CENTURY: return bcd(19 + tm.tm_year / 100);
	case RTC_REG_A: return 0x26;	/* 32.768 kHz base, UIP clear */
	case RTC_REG_B: return 0x02;	/* 24-hour, BCD, no interrupts */
	case RTC_REG_C: return 0x00;	/* no interrupt flags */
	case RTC_REG_D: return 0x80;	/* valid RAM and time */
	default: return 0x00;
	}
}

static void rtc_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	struct rtc *r = opaque;

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&r->lock);
	if (off == 0 && is_write)
		r->index = data[0] & 0x7f;
	else if (off == 0)
		data[0] = r->index;
	else if (!is_write)
		data[0] = rtc_read(r->index);
	pthread_mutex_unlock(&r->lock);
}

static int rtc_create(struct machine *m, unsigned flags, void **dev)
{
	struct rtc *r = legacy_new(m, "rtc", sizeof(*r), PICOVM_PORT_RTC, 2,
				   rtc_access);

	(void)flags;
	if (!r)
		return -1;
	pthread_mutex_init(&r->lock, NULL);
	*dev = r;
	return 0;
}

static void rtc_destroy(void *dev)
{
	struct rtc *r = dev;

	if (r)
		pthread_mutex_destroy(&r->lock);
	legacy_free(r);
}

/* The index register; the clock itself is the host's, read live. */
static size_t rtc_save(void *dev, uint8_t *b)
{
	struct rtc *r = dev;

	pthread_mutex_lock(&r->lock);
	b[0] = r->index;
	pthread_mutex_unlock(&r->lock);
	return 1;
}

static int rtc_restore(void *dev, const uint8_t *b, size_t len)
{
	struct rtc *r = dev;

	if (len != 1 || b[0] > 0x7f)
		return legacy_bad_state("rtc", len, 1);
	pthread_mutex_lock(&r->lock);
	r->index = b[0];
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const struct legacy_ops rtc_legacy = {
	.name = "rtc",
	.create = rtc_create,
	.destroy = rtc_destroy,
	.save = rtc_save,
	.restore = rtc_restore,
};
