// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing: defaults, every option, and every malformed value. */
#include <stdlib.h>
#include <string.h>

#include "../../vmm/cli.h"
#include "unit.h"

static char outbuf[4096], errbuf[4096];

static enum cli_result parse(struct vmm_config *cfg, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	FILE *out = fmemopen(outbuf, sizeof(outbuf), "w");
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	enum cli_result r;

	argv[argc++] = (char *)"icevmm";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	r = cli_parse(argc, argv, cfg, out, err);
	fclose(out);
	fclose(err);
	return r;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(defaults)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c, ARGS("--kernel", "Image")), CLI_RUN);
	ck_assert_str_eq(c.kernel, "Image");
	ck_assert_ptr_null(c.initrd);
	ck_assert_ptr_null(c.dump_dtb);
	ck_assert_ptr_null(c.dump_acpi);
	ck_assert_str_eq(c.cmdline, VMM_DEFAULT_CMDLINE);
	ck_assert_uint_eq(c.mem_bytes, 256ULL << 20);
	ck_assert_uint_eq(c.cpus, 1);
	ck_assert_uint_eq(c.timeout_s, 0);
}
END_TEST

START_TEST(all_options)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--initrd", "I", "--cmdline", "quiet", "--mem",
					"1G", "--cpus", "2", "--timeout", "30", "--dump-dtb",
					"out.dtb", "--dump-acpi", "acpi-out")),
			 CLI_RUN);
	ck_assert_str_eq(c.kernel, "K");
	ck_assert_str_eq(c.initrd, "I");
	ck_assert_str_eq(c.cmdline, "quiet");
	ck_assert_uint_eq(c.mem_bytes, 1ULL << 30);
	ck_assert_uint_eq(c.cpus, 2);
	ck_assert_uint_eq(c.timeout_s, 30);
	ck_assert_str_eq(c.dump_dtb, "out.dtb");
	ck_assert_str_eq(c.dump_acpi, "acpi-out");
	ck_assert_int_eq(parse(&c, ARGS("--dump-acpi=tables", "-k", "K")), CLI_RUN);
	ck_assert_str_eq(c.dump_acpi, "tables");
	ck_assert_ptr_null(c.dump_dtb);
	ck_assert_int_eq(parse(&c, ARGS("--kernel=K", "--mem=512")), CLI_RUN);
	ck_assert_uint_eq(c.mem_bytes, 512ULL << 20); /* plain number: MiB */
}
END_TEST

static void expect_error(const char *const *args, const char *needle)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c, args), CLI_ERROR);
	ck_assert_msg(strstr(errbuf, needle), "error '%s' lacks '%s'", errbuf, needle);
}

START_TEST(malformed)
{
	expect_error(ARGS("--kernel", "K", "--mem", "0"), "--mem '0'");
	expect_error(ARGS("--kernel", "K", "--mem", "8M"), "--mem '8M'");
	expect_error(ARGS("--kernel", "K", "--mem", "1000K"), "multiple of 2M");
	expect_error(ARGS("--kernel", "K", "--mem", "1T"), "--mem '1T'");
	expect_error(ARGS("--kernel", "K", "--mem", "-256M"), "--mem '-256M'");
	expect_error(ARGS("--kernel", "K", "--mem", "99999999999999999999G"), "--mem");
	expect_error(ARGS("--kernel", "K", "--cpus", "0"), "--cpus '0'");
	expect_error(ARGS("--kernel", "K", "--cpus", "65"), "from 1 to 64");
	expect_error(ARGS("--kernel", "K", "--cpus", "2x"), "--cpus '2x'");
	expect_error(ARGS("--kernel", "K", "--cpus", ""), "--cpus ''");
	expect_error(ARGS("--kernel", "K", "--timeout", "0"), "--timeout '0'");
	expect_error(ARGS("--kernel", "K", "--timeout", "1.5"), "--timeout '1.5'");
	expect_error(ARGS("--initrd", "I"), "--kernel PATH is required");
	expect_error(ARGS("--kernel", "K", "--bogus"), "unknown option '--bogus'");
	expect_error(ARGS("--kernel", "K", "-z"), "unknown option");
	expect_error(ARGS("--kernel"), "needs a value");
	expect_error(ARGS("--kernel", "K", "--dump-acpi"), "'--dump-acpi' needs a value");
	expect_error(ARGS("--kernel", "K", "stray"), "unexpected argument 'stray'");
}
END_TEST

START_TEST(help_and_version)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c, ARGS("--help")), CLI_DONE);
	ck_assert_ptr_nonnull(strstr(outbuf, "Usage: icevmm --kernel PATH"));
	ck_assert_ptr_nonnull(strstr(outbuf, "Exit status"));
	ck_assert_ptr_nonnull(strstr(outbuf, "--dump-acpi DIR"));
	ck_assert_int_eq(parse(&c, ARGS("-V")), CLI_DONE);
	ck_assert_str_eq(outbuf, "icevmm " ICEVMM_VERSION "\n");
}
END_TEST

/* The sandbox is on unless --no-seccomp; the self-test hook is off unless asked for. */
START_TEST(seccomp_options)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c, ARGS("--kernel", "K")), CLI_RUN);
	ck_assert(!c.no_seccomp);
	ck_assert(!c.seccomp_selftest);
	ck_assert_int_eq(parse(&c, ARGS("--kernel", "K", "--no-seccomp")), CLI_RUN);
	ck_assert(c.no_seccomp);
	ck_assert(!c.seccomp_selftest);
	ck_assert_int_eq(parse(&c, ARGS("--seccomp-selftest", "--kernel", "K")), CLI_RUN);
	ck_assert(!c.no_seccomp);
	ck_assert(c.seccomp_selftest);
	ck_assert_int_eq(parse(&c, ARGS("--kernel", "K", "--no-seccomp", "--seccomp-selftest")),
			 CLI_RUN);
	ck_assert(c.no_seccomp && c.seccomp_selftest);
	/* a flag takes no value */
	expect_error(ARGS("--kernel", "K", "--no-seccomp=1"), "unknown option '--no-seccomp=1'");
	expect_error(ARGS("--kernel", "K", "--no-seccomp", "1"), "unexpected argument '1'");
	ck_assert_int_eq(parse(&c, ARGS("--help")), CLI_DONE);
	ck_assert_ptr_nonnull(strstr(outbuf, "\n      --no-seccomp      run without the seccomp"));
	ck_assert_ptr_nonnull(strstr(outbuf, "\n      --seccomp-selftest\n"));
}
END_TEST

/* --disk PATH,ice: the default engine (no keys file); ice=KEYS: a keys file */
START_TEST(disk_ice)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c,
			       ARGS("-k", "K", "--disk", "a.img", "--disk", "b.img,ice", "--disk",
				    "c.img,ro,ice=keys.conf,serial=s", "-d", "d.img,ice,serial=x")),
			 CLI_RUN);
	ck_assert_uint_eq(c.ndisks, 4);
	ck_assert_str_eq(c.disks[0].path, "a.img");
	ck_assert(!c.disks[0].ice);
	ck_assert_ptr_null(c.disks[0].ice_keys);
	ck_assert_str_eq(c.disks[1].path, "b.img");
	ck_assert(c.disks[1].ice);
	ck_assert_ptr_null(c.disks[1].ice_keys);
	ck_assert(!c.disks[1].ro);
	ck_assert_str_eq(c.disks[2].path, "c.img");
	ck_assert(c.disks[2].ice);
	ck_assert_str_eq(c.disks[2].ice_keys, "keys.conf");
	ck_assert(c.disks[2].ro);
	ck_assert_str_eq(c.disks[2].serial, "s");
	ck_assert(c.disks[3].ice);
	ck_assert_ptr_null(c.disks[3].ice_keys);
	ck_assert_str_eq(c.disks[3].serial, "x");
	/* the whole message, so its list of options stays right */
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice=")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice=': ice= needs a keys file (or give "
				 "ice alone for the default engine)\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice,ice=k")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice,ice=k': give ice or ice=KEYS once\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice=k,ice=l")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice=k,ice=l': give ice or ice=KEYS once\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,icy")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,icy': unknown disk option (expected ro, "
				 "serial=STR, block=N, ice, ice=KEYS, spec=v2|v4 or "
				 "fault=NAME)\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", ",ice")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk ',ice': expected "
				 "PATH[,ro][,serial=STR][,block=N][,ice[=KEYS][,spec=v2|v4]]"
				 "[,fault=lose-program|break-queue|fail-reprogram|many-queues]\n");
	/* --help says what each form gives */
	ck_assert_int_eq(parse(&c, ARGS("--help")), CLI_DONE);
	ck_assert_ptr_nonnull(strstr(outbuf, "  -d, --disk "
					     "PATH[,ro][,serial=STR][,block=N][,ice[=KEYS][,spec="
					     "v2|v4]]\n"));
	ck_assert_ptr_nonnull(strstr(outbuf, "  ice: guest-programmed: the default engine"));
	ck_assert_ptr_nonnull(strstr(outbuf, "  ice=KEYS: host-provisioned: the [slot N] keys"));
}
END_TEST

/* spec=v2|v4: the draft an ICE disk speaks; v2 unless said, and only with ice */
START_TEST(disk_ice_spec)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c,
			       ARGS("-k", "K", "--disk", "a.img", "--disk", "b.img,ice", "--disk",
				    "c.img,spec=v4,ice=k", "-d", "d.img,ice,spec=v2")),
			 CLI_RUN);
	ck_assert_uint_eq(c.ndisks, 4);
	ck_assert_uint_eq(c.disks[0].ice_spec, 0);
	ck_assert_uint_eq(c.disks[1].ice_spec, 2);
	ck_assert_uint_eq(c.disks[2].ice_spec, 4);
	ck_assert_str_eq(c.disks[2].ice_keys, "k");
	ck_assert_uint_eq(c.disks[3].ice_spec, 2);
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,spec=v4")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,spec=v4': spec= is the ICE draft the disk "
				 "speaks: give it with ice or ice=KEYS\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice,spec=v3")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice,spec=v3': spec= takes v2 or v4\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice,spec=v44")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice,spec=v44': spec= takes v2 or v4\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice,spec=v4,spec=v4")),
			 CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice,spec=v4,spec=v4': give spec= once\n");
	ck_assert_int_eq(parse(&c, ARGS("--help")), CLI_DONE);
	ck_assert_ptr_nonnull(strstr(outbuf, "  spec: the draft the disk speaks: v2 (the "
					     "default;"));
}
END_TEST

/* block=N: the logical block size, a power of two from 512 to 4096 */
START_TEST(disk_block)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img", "--disk", "b.img,block=4096",
					"-d", "c.img,ice,block=512,spec=v4")),
			 CLI_RUN);
	ck_assert_uint_eq(c.disks[0].block, 0);
	ck_assert_uint_eq(c.disks[1].block, 4096);
	ck_assert_uint_eq(c.disks[2].block, 512);
	ck_assert_uint_eq(c.disks[2].ice_spec, 4);
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,block=8192")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,block=8192': block= takes 512, 1024, "
				 "2048 or 4096\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,block=")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,block=': block= takes 512, 1024, "
				 "2048 or 4096\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,block=512,block=512")),
			 CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,block=512,block=512': give block= once\n");
}
END_TEST

START_TEST(disk_fault)
{
	struct vmm_config c;

	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice,fault=lose-program", "-d",
					"b.img,ice")),
			 CLI_RUN);
	ck_assert_int_eq(c.disks[0].key_fault, BLK_FAULT_LOSE_PROGRAM);
	ck_assert(!c.disks[0].many_queues);
	ck_assert_int_eq(c.disks[1].key_fault, BLK_FAULT_NONE);
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,fault=many-queues", "-d",
					"b.img,ice,fault=many-queues,fault=break-queue", "-d",
					"c.img,ice,spec=v4,fault=fail-reprogram")),
			 CLI_RUN);
	ck_assert(c.disks[0].many_queues);
	ck_assert_int_eq(c.disks[0].key_fault, BLK_FAULT_NONE);
	ck_assert(c.disks[1].many_queues);
	ck_assert_int_eq(c.disks[1].key_fault, BLK_FAULT_BREAK_QUEUE);
	ck_assert(!c.disks[2].many_queues);
	ck_assert_int_eq(c.disks[2].key_fault, BLK_FAULT_FAIL_REPROGRAM);
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,fault=lose-program")),
			 CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,fault=lose-program': fault=lose-program, "
				 "break-queue and fail-reprogram are faults of the ICE's key "
				 "commands: give them with ice\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk",
					"a.img,ice,fault=break-queue,fault=lose-program")),
			 CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice,fault=break-queue,fault=lose-program': "
				 "give one of fault=lose-program, break-queue or fail-reprogram\n");
	ck_assert_int_eq(parse(&c, ARGS("-k", "K", "--disk", "a.img,ice,fault=lose")), CLI_ERROR);
	ck_assert_str_eq(errbuf, "icevmm: --disk 'a.img,ice,fault=lose': fault= takes "
				 "lose-program, break-queue, fail-reprogram or many-queues\n");
}
END_TEST

START_TEST(sizes)
{
	ck_assert_uint_eq(cli_parse_size("256M"), 256ULL << 20);
	ck_assert_uint_eq(cli_parse_size("256MiB"), 256ULL << 20);
	ck_assert_uint_eq(cli_parse_size("2g"), 2ULL << 30);
	ck_assert_uint_eq(cli_parse_size("4096K"), 4ULL << 20);
	ck_assert_uint_eq(cli_parse_size("64"), 64ULL << 20);
	ck_assert_uint_eq(cli_parse_size("1Gx"), 0);
	ck_assert_uint_eq(cli_parse_size("M"), 0);
	ck_assert_uint_eq(cli_parse_size(""), 0);
	ck_assert_uint_eq(cli_parse_size(" 1G"), 0);
	ck_assert_uint_eq(cli_parse_size("17179869184G"), 0); /* 2^64 bytes: overflow */
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, all_options);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, seccomp_options);
	tcase_add_test(tc, disk_ice);
	tcase_add_test(tc, disk_ice_spec);
	tcase_add_test(tc, disk_block);
	tcase_add_test(tc, disk_fault);
	suite_add_tcase(s, tc);
	return s;
}
