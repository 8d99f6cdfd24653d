#!/usr/bin/env bash
# ACPICA (Debian's acpica-tools) as an independent reader of icevmm's x86_64
# ACPI tables. tests/oracle/acpi_tables writes the tables of a fake machine
# through the --dump-acpi writer; then, for a few machine sizes:
#   - iasl -d disassembles every table: no errors, no "Incorrect checksum";
#   - the data tables (XSDT, FACP, APIC) recompiled by iasl are byte for byte
#     ours, bar the compiler ID and so the checksum; the RSDP iasl compiles
#     from the fields we mean (its own checksums) is byte for byte ours; the
#     DSDT's disassembly recompiled (iasl -oa: no optimisations) gives our AML;
#   - the disassembly names what Linux needs: the pointers, HW-reduced, the
#     sleep registers, the MADT entries, the UART, each LNRO0005 disk with its
#     window and interrupt, \_S5;
#   - acpiexec (ACPICA's interpreter, the code Linux runs) loads the FADT,
#     MADT and DSDT without a warning, evaluates \_S5 and takes the
#     hardware-reduced sleep path into S5.
#
#   tests/oracle/acpi_iasl.sh BUILD_DIR     (e.g. build/x86_64)
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}
tool="$build/tests/oracle/acpi_tables"
for t in iasl acpiexec; do
	if ! command -v "$t" >/dev/null; then
		echo "acpi_iasl: $t not found (Debian's acpica-tools: scripts/deps.sh installs it)" >&2
		exit 1
	fi
done
tool=$(realpath "$tool")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
	echo "FAIL acpi_iasl: $*"
	failures=$((failures + 1))
}

# The .dsl without comments, offsets and line breaks: one line of tokens.
flat() {
	sed -e 's|/\*[^*]*\*/||g' -e 's|//.*||' -e 's/^\[[0-9A-F]*h [0-9]* *[0-9]*\] *//' "$1" |
		tr -s ' \t\n' '   '
}

has() { # has FILE.flat TEXT WHAT
	grep -qF -- "$2" "$1" || fail "$3: '${2:0:200}...' not in $(basename "$1" .flat).dsl"
}

# How many bytes of two same-sized files differ, except at the (1-based) positions listed.
differ_except() {
	[ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] || { echo size; return; }
	cmp -l "$1" "$2" | awk -v skip=" $3 " 'index(skip, " " $1 " ") == 0 { n++ } END { print n + 0 }'
}

check_machine() {
	local ncpus=$1 ndisks=$2 d="$work/m${1}_$2" t i want uid
	declare -A addr
	mkdir -p "$d"
	while read -r sig g _; do
		addr[$sig]=$g
	done < <("$tool" "$d" "$ncpus" "$ndisks" | sed -n 's/^table //p')
	[ "${#addr[@]}" -eq 5 ] || { fail "$ncpus cpus: the tool listed ${#addr[@]} tables"; return; }
	cd "$d"

	for t in xsdt facp apic dsdt; do
		if ! iasl -d "$t.dat" >"$t.log" 2>&1; then
			fail "iasl -d $t.dat failed: $(tail -3 "$t.log")"
			continue
		fi
		if grep -qiE 'incorrect checksum|error|warning' "$t.log" "$t.dsl"; then
			fail "$t: $(grep -iE 'incorrect checksum|error|warning' "$t.log" "$t.dsl" | head -3)"
		fi
		flat "$t.dsl" >"$t.flat"
	done

	# Data tables: iasl's compiler rebuilds ours from its own reading of them.
	# It writes its own compiler ID and revision (bytes 29-36) and so its own
	# checksum (byte 10).
	for t in xsdt facp apic; do
		mv "$t.dat" "$t.orig"
		if ! iasl -p "${t}_re" "$t.dsl" >"$t.relog" 2>&1 || [ ! -s "${t}_re.aml" ]; then
			fail "iasl could not recompile $t.dsl: $(tail -3 "$t.relog")"
		elif [ "$(differ_except "${t}_re.aml" "$t.orig" "10 29 30 31 32 33 34 35 36")" != 0 ]; then
			fail "$t: iasl's recompilation differs from ours beyond the compiler ID"
		fi
	done
	# The DSDT: disassembled, then compiled without optimisations: the same AML.
	if ! iasl -oa -p dsdt_re dsdt.dsl >dsdt.relog 2>&1 || [ ! -s dsdt_re.aml ]; then
		fail "iasl could not recompile dsdt.dsl: $(tail -3 dsdt.relog)"
	elif ! cmp -s <(tail -c +37 dsdt_re.aml) <(tail -c +37 dsdt.dat); then
		fail "dsdt: iasl compiles the disassembly into different AML"
	fi
	# The RSDP (iasl -d does not read one): iasl compiles what it should be.
	cat >rsdp.asl <<-EOF
		[0008] Signature : "RSD PTR "
		[0001] Checksum : 00
		[0006] Oem ID : "ICEVMM"
		[0001] Revision : 02
		[0004] RSDT Address : 00000000
		[0004] Length : 00000024
		[0008] XSDT Address : ${addr[XSDT]#0x}
		[0001] Extended Checksum : 00
		[0003] Reserved : 000000
	EOF
	if ! iasl rsdp.asl >rsdp.log 2>&1; then
		fail "iasl could not compile the expected RSDP: $(tail -3 rsdp.log)"
	elif ! cmp -s rsdp.aml rsdp.dat; then
		fail "rsdp: not the RSDP iasl makes of the same fields (checksums, XSDT address)"
	fi

	# What the tables say, as iasl reads them.
	hex16() { printf '%016X' "$1"; }
	has xsdt.flat "ACPI Table Address 0 : $(hex16 "${addr[FACP]}")" "XSDT -> FADT"
	has xsdt.flat "ACPI Table Address 1 : $(hex16 "${addr[APIC]}")" "XSDT -> MADT"
	has facp.flat "Revision : 06" "FADT revision"
	has facp.flat "FADT Minor Revision : 05" "FADT minor revision"
	has facp.flat "DSDT Address : $(hex16 "${addr[DSDT]}")" "FADT -> DSDT"
	has facp.flat "Hardware Reduced (V5) : 1" "FADT flags"
	has facp.flat "Sleep Control Register : [Generic Address Structure] Space ID : 01 [SystemIO] Bit Width : 08 Bit Offset : 00 Encoded Access Width : 01 [Byte Access:8] Address : 0000000000000600" "sleep control register"
	has facp.flat "Sleep Status Register : [Generic Address Structure] Space ID : 01 [SystemIO] Bit Width : 08 Bit Offset : 00 Encoded Access Width : 01 [Byte Access:8] Address : 0000000000000601" "sleep status register"
	has apic.flat "Local Apic Address : FEE00000 Flags (decoded below) : 00000000 PC-AT Compatibility : 0" "MADT header"
	want=""
	for ((i = 0; i < ncpus; i++)); do
		printf -v want '%sSubtable Type : 00 [Processor Local APIC] Length : 08 Processor ID : %02X Local Apic ID : %02X Flags (decoded below) : 00000001 Processor Enabled : 1 Runtime Online Capable : 0 ' "$want" "$i" "$i"
	done
	has apic.flat "$want" "the local APICs, in order"
	[ "$(grep -o 'Processor Local APIC' apic.flat | wc -l)" -eq "$ncpus" ] ||
		fail "MADT: not $ncpus local APICs"
	has apic.flat "Subtable Type : 01 [I/O APIC] Length : 0C I/O Apic ID : 00 Reserved : 00 Address : FEC00000 Interrupt : 00000000" "IOAPIC"
	has dsdt.flat 'Device (UA00) { Name (_HID, EisaId ("PNP0501") ) Name (_UID, Zero) Name (_CRS, ResourceTemplate () { IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08, ) Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x00000004, } }) }' "the UART"
	want=""
	for ((i = 0; i < ndisks; i++)); do
		uid=One
		[ $((i + 1)) -eq 1 ] || printf -v uid '0x%02X' $((i + 1))
		printf -v want '%s Device (VR%02X) { Name (_HID, "LNRO0005") Name (_UID, %s) Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, 0x%08X, 0x00000200, ) Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, ) { 0x%08X, } }) }' \
			"$want" $((i + 1)) "$uid" $((0xd1000000 + i * 0x200)) $((16 + i))
	done
	has dsdt.flat "$want" "the virtio-mmio disks, in order"
	[ "$(grep -o 'LNRO0005' dsdt.flat | wc -l)" -eq "$ndisks" ] || fail "DSDT: not $ndisks virtio-mmio devices"
	has dsdt.flat 'Name (_S5, Package (0x04) { 0x05, Zero, Zero, Zero })' '\_S5'

	# ACPICA's interpreter: load, evaluate \_S5, enter S5 the hardware-reduced way.
	mv facp.orig facp.dat
	mv apic.orig apic.dat
	timeout 60 acpiexec -b 'Evaluate \_S5; Sleep 5' facp.dat apic.dat dsdt.dat >exec.log 2>&1 ||
		fail "acpiexec failed: $(tail -3 exec.log)"
	if grep -qiE 'error|warning|exception' exec.log; then
		fail "acpiexec: $(grep -iE 'error|warning|exception' exec.log | head -3)"
	fi
	for t in "FACP 0x[0-9A-F]* 000114 (v06 ICEVMM" "Contains 4 Elements" \
		"Register values for sleep state S5: Sleep-A: 05" "HwExtendedSleep .*: Entering sleep state \[S5\]"; do
		grep -q -- "$t" exec.log || fail "acpiexec: no '$t'"
	done
	cd - >/dev/null
	echo "acpi_iasl: $ncpus vCPUs, $ndisks disks: checked"
}

check_machine 1 0
check_machine 2 3
check_machine 64 8
if [ "$failures" -ne 0 ]; then
	echo "acpi_iasl: $failures failures (tables kept in $work)"
	trap - EXIT
	exit 1
fi
echo "acpi_iasl: iasl and acpiexec read the tables as meant"
