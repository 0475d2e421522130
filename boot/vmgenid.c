/*
 * The VM generation ID's SSDT (Microsoft's "Virtual Machine Generation ID"
 * specification; Linux 6.1 drivers/virt/vmgenid.c binds to it): a table of
 * its own, so that the DSDT (boot/acpi.c) knows nothing of it.
 *
 *   Scope (\_SB) {
 *       Device (VGEN) {
 *           Name (_HID, "VMGENCTR")        // Linux's first id
 *           Name (_CID, "VM_Gen_Counter")  // the spec's; ACPICA upper-cases
 *           Name (_DDN, "VM_Gen_Counter")  //   it to Linux's second id
 *           Method (ADDR) {                // where the 16-byte ID is
 *               Return (Package () { PICOVM_VMGENID_ADDR, 0 })
 *           }
 *       }
 *   }
 *   Scope (\_GPE) {
 *       Method (_E00) { Notify (\_SB.VGEN, 0x80) }  // GPE 0, edge
 *   }
 *
 * devices/vmgenid.c writes the ID and raises GPE 0 after a restore;
 * devices/acpi_pm.c emulates the GPE0 block the FADT announces.
 * Hand-assembled: a PkgLength covers what follows its opcode, itself
 * included; one byte below 64, else two (0x40 | low nibble, then the rest
 * shifted right by 4).
 */
#include "boot.h"
#include "../devices/ports.h"

#define AML_DWORD(v) (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16), \
		     (uint8_t)((v) >> 24)
#define ADDR_LO (PICOVM_VMGENID_ADDR & 0xffffffffu)
_Static_assert(PICOVM_VMGENID_ADDR % 8 == 0, "the spec wants 8-byte alignment");
_Static_assert(PICOVM_GPE_VMGENID == 0, "the method below is _E00");

static const uint8_t aml[] = {
	0x10, 0x49, 0x05, '\\', '_', 'S', 'B', '_',	/* Scope, 89 bytes */
	0x5b, 0x82, 0x40, 0x05, 'V', 'G', 'E', 'N',	/* Device, 80 bytes */
	0x08, '_', 'H', 'I', 'D', 0x0d,			/* Name, String */
	'V', 'M', 'G', 'E', 'N', 'C', 'T', 'R', 0x00,
	0x08, '_', 'C', 'I', 'D', 0x0d,
	'V', 'M', '_', 'G', 'e', 'n', '_', 'C', 'o', 'u', 'n', 't', 'e', 'r', 0x00,
	0x08, '_', 'D', 'D', 'N', 0x0d,
	'V', 'M', '_', 'G', 'e', 'n', '_', 'C', 'o', 'u', 'n', 't', 'e', 'r', 0x00,
	0x14, 0x10, 'A', 'D', 'D', 'R', 0x00,		/* Method, 16 bytes, 0 args */
	0xa4, 0x12, 0x08, 0x02,				/* Return, Package(2) */
	0x0c, AML_DWORD(ADDR_LO), 0x00,			/* DWord, Zero */
	0x10, 0x1a, '\\', '_', 'G', 'P', 'E',		/* Scope, 26 bytes */
	0x14, 0x13, '_', 'E', '0', '0', 0x00,		/* Method, 19 bytes */
	0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N',	/* Notify */
	0x0a, 0x80,
};
/* The PkgLengths above, checked against what they cover: the \_GPE
 * scope is the last 27 bytes, the \_SB scope all before it. */
_Static_assert(sizeof(aml) == 1 + 89 + 1 + 26, "Scope PkgLengths");
_Static_assert(((unsigned long long)PICOVM_VMGENID_ADDR >> 32) == 0, "ADDR's high half is Zero");

const uint8_t *vmgenid_ssdt_aml(uint32_t *len)
{
	*len = (uint32_t)sizeof(aml);
	return aml;
}
