/*
 * A small printf: one formatter writing through a sink, used for the
 * serial port (rt_printf, which collects up to SERIAL_CHUNK bytes per
 * serial_write) and for buffers (rt_snprintf).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "rt.h"

#define SERIAL_CHUNK 256

struct sink {
	char *buf;	/* NULL: serial, through chunk[] */
	size_t size;
	size_t n;	/* bytes produced (may exceed size) */
	size_t pending;	/* serial: bytes in chunk[] */
	char chunk[SERIAL_CHUNK];
};

static void flush(struct sink *s)
{
	serial_write(s->chunk, s->pending);
	s->pending = 0;
}

static void put(struct sink *s, char c)
{
	if (!s->buf) {
		if (s->pending == sizeof(s->chunk))
			flush(s);
		s->chunk[s->pending++] = c;
	} else if (s->n + 1 < s->size) {
		s->buf[s->n] = c;
	}
	s->n++;
}

static void pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		put(s, c);
}

struct spec {
	bool alt, zero, left;
	int width;
	int prec;	/* -1: none */
};

static void put_str(struct sink *s, const struct spec *sp, const char *str)
{
	size_t len;

	if (!str)
		str = "(null)";
	len = sp->prec >= 0 ? strnlen(str, (size_t)sp->prec) : strlen(str);
	if (!sp->left)
		pad(s, ' ', sp->width - (int)len);
	for (size_t i = 0; i < len; i++)
		put(s, str[i]);
	if (sp->left)
		pad(s, ' ', sp->width - (int)len);
}

static void put_num(struct sink *s, const struct spec *sp, uint64_t v,
		    unsigned base, bool neg, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, len;
	const char *prefix = "";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		prefix = "-";
	else if (sp->alt && base == 16)
		prefix = upper ? "0X" : "0x";
	len = n + (int)strlen(prefix);
	if (!sp->left && !sp->zero)
		pad(s, ' ', sp->width - len);
	for (const char *p = prefix; *p; p++)
		put(s, *p);
	if (!sp->left && sp->zero)
		pad(s, '0', sp->width - len);
	while (n)
		put(s, tmp[--n]);
	if (sp->left)
		pad(s, ' ', sp->width - len);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		struct spec sp = { .prec = -1 };
		int lng = 0;	/* 1: l or z, 2: ll, -1: h, -2: hh */
		uint64_t u;
		int64_t d;

		if (*fmt != '%') {
			put(s, *fmt);
			continue;
		}
		for (;;) {
			fmt++;
			if (*fmt == '#')
				sp.alt = true;
			else if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '-')
				sp.left = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			sp.prec = 0;
			if (*++fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				sp.prec = sp.prec * 10 + (*fmt++ - '0');
		}
		for (;; fmt++) {
			if (*fmt == 'l' || *fmt == 'z')
				lng++;
			else if (*fmt == 'h')
				lng--;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			d = lng > 0 ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (lng == -1)
				d = (short)d;
			else if (lng == -2)
				d = (signed char)d;
			u = d < 0 ? -(uint64_t)d : (uint64_t)d;
			put_num(s, &sp, u, 10, d < 0, false);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng > 0 ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			if (lng == -1)
				u = (uint16_t)u;
			else if (lng == -2)
				u = (uint8_t)u;
			put_num(s, &sp, u, *fmt == 'u' ? 10 : 16, false,
				*fmt == 'X');
			break;
		case 'p':
			sp.alt = true;
			put_num(s, &sp, (uint64_t)va_arg(ap, void *), 16, false,
				false);
			break;
		case 'c':
			put(s, (char)va_arg(ap, int));
			break;
		case 's':
			put_str(s, &sp, va_arg(ap, const char *));
			break;
		case '%':
			put(s, '%');
			break;
		case '\0':
			return;
		default:
			put(s, '%');
			put(s, *fmt);
			break;
		}
	}
}

int rt_vprintf(const char *fmt, va_list ap)
{
	struct sink s;

	s.buf = NULL;
	s.n = s.pending = 0;
	format(&s, fmt, ap);
	flush(&s);
	return (int)s.n;
}

int rt_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s;

	s.buf = buf;
	s.size = size;
	s.n = s.pending = 0;
	format(&s, fmt, ap);
	if (size)
		buf[s.n < size ? s.n : size - 1] = '\0';
	return (int)s.n;
}

int rt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void rt_puts(const char *s)
{
	rt_printf("%s\n", s);
}
