# normalize.sed - objdump -d -r output to comparable text (check-up).
# Keeps, per function: its name, each instruction (mnemonic and operands)
# and each relocation (type and addend); drops addresses, raw bytes,
# symbol names inside operands and relocations, comments and the header.
/^$/d
/file format/d
/^Disassembly of section/d
# Function labels: "0000000000000010 <ref_inc>:" -> "<ref_inc>:"
s/^[0-9a-f]* <\([^>]*\)>:$/FUNC \1/
# Relocations: "  3: R_X86_64_PC32 sym-0x4" -> "  R_X86_64_PC32 SYM-0x4"
s/^[ 	]*[0-9a-f]*:[ 	]*\(R_[A-Z0-9_]*\)[ 	]*[^-+ 	]*\(.*\)$/	\1 SYM\2/
# Instructions: drop the address column.
s/^[ 	]*[0-9a-f]*:[ 	]*//
# Comments ("# 1a <ref_inc+0x1a>") and symbolic targets.
s/[ 	]*#.*$//
s/<[^>+]*\(+0x[0-9a-f]*\)>/<\1>/g
s/<[^>+]*>/<>/g
s/[ 	][ 	]*/ /g
s/ $//
