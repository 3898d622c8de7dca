/* guest.h: the real, tiny Linux guest that the end-to-end tests boot, and waiting for what it
 * prints on its serial console.
 *
 * The disk image comes from scripts/guest-image (see tests/e2e/README.md): a BIOS-bootable
 * qcow2 of about 10 MB whose /init prints TL_GUEST_UP once the kernel reaches userspace, then
 * TL_GUEST_DHCP followed by the leased IPv4 address once eth0 has one. If the instance's
 * user-data (on its CIDATA seed disk) starts with "#!", the guest then runs it and prints
 * TL_GUEST_USERDATA_BEGIN, the script's output, and TL_GUEST_USERDATA_END followed by its exit
 * status; then it gives a root shell on ttyS0 (a prompt, "/ # "), for the console stream
 * (tests/e2e/console_test.c), and prints nothing more unless typed to. Virtio disks appear
 * as /dev/disk/by-id/virtio-<serial> (the serial's first 20 characters), hot-plugged ones
 * too. An ACPI power button (a graceful stop) powers it off within a couple of seconds. */
#ifndef SOV_TL_GUEST_H
#define SOV_TL_GUEST_H

/* The guest's console markers. */
#define TL_GUEST_UP "SOVEREIGN-GUEST-UP"
#define TL_GUEST_DHCP "SOVEREIGN-DHCP "
#define TL_GUEST_USERDATA_BEGIN "SOVEREIGN-USERDATA-BEGIN"
#define TL_GUEST_USERDATA_END "SOVEREIGN-USERDATA-END rc="

/* Build the guest image, or copy it from the machine's cache (scripts/guest-image, found
 * through SOV_SOURCE_ROOT; SOV_CACHE moves the cache), into a new folder of this test
 * (tl_tmpdir()). Returns the image's absolute path (malloc). Fails the test, with the
 * script's output, if it cannot be built. A cache hit takes a few milliseconds; the first
 * build on a machine downloads about 72 MB of Debian packages and takes a few seconds. */
char *tl_guest_image(void);
/* Remove the image and the folder tl_guest_image() made for it; NULL is a no-op. */
void tl_guest_image_remove(const char *path);

/* Reads the console text so far: a new string (malloc) the caller frees, or NULL when there
 * is nothing to read yet (no log file, an instance still starting). */
typedef char *(*tl_console_reader)(void *arg);

/* A tl_console_reader for a console log file; arg is its path (const char *). */
char *tl_console_file_read(void *path);

/* The text that follows the first occurrence of marker in text, up to the end of its line
 * (without "\r" or "\n"), as a new string (malloc); NULL if marker does not occur, or its
 * line is not finished yet (so a half-written address is never returned). */
char *tl_console_after(const char *text, const char *marker);

/* Call reader(arg) every 100 ms until its text has a complete line holding marker, or
 * timeout_s seconds pass. Returns what follows the marker on that line (malloc; "" for a bare
 * marker such as TL_GUEST_UP, the address for TL_GUEST_DHCP), or NULL on timeout. If
 * ret_seconds is not NULL, it gets the seconds the wait took. The test goes on either way. */
char *tl_console_wait(tl_console_reader reader, void *arg, const char *marker,
                      unsigned timeout_s, double *ret_seconds);

/* tl_console_wait() that fails the test on timeout, quoting the end of the console, so a
 * guest that never came up shows why. */
char *tl_console_expect(tl_console_reader reader, void *arg, const char *marker,
                        unsigned timeout_s);

/* A /24 in 10.0.0.0/8 that no libvirt network (on uri), interface address or route of this
 * machine uses, so the NAT network sovd defines shadows nothing: cidr gets "10.a.b.0/24" and
 * prefix (may be NULL) "10.a.b.". The whole 10.a/16 is avoided when anything in it is in use
 * (routes may be wider). Fails the test when none is free. */
void tl_free_subnet(const char *uri, char cidr[32], char prefix[16]);

/* Fail the test unless every folder above dir is world-traversable: libvirt-qemu opens the
 * disks and logs kept there. */
void tl_assert_traversable(const char *dir);

#endif
