"""Where in a function to put a uprobe so that the kernel emulates the probed instruction.

A uprobe replaces one instruction with a breakpoint. After the BPF program has run, the kernel
must still execute that instruction: x86 kernels emulate a few kinds (push of a register, nops,
relative jumps, conditional jumps and calls) and single-step every other kind out of line. On
this project's Firecracker VM a single-stepped probe costs about 9 µs and an emulated one about
0.6 µs (measured: `bench runtime` prints both), and the costs land on the observed program.
OpenSSL's `SSL_free` opens with `test %rdi,%rdi`, `SSL_get_error` with `xor %eax,%eax` and
`SSL_read` with `sub $0x18,%rsp`: all single-stepped.

`choose()` walks the first instructions of a function and moves the probe to the first one the
kernel emulates, provided nothing before it changes what the BPF program reads: the argument
registers it uses, and the stack pointer when a return probe shares the point (a uretprobe takes
the return address from the top of the stack). Nothing before it may branch, and nothing in the
function may jump into the skipped prefix. When no such point exists the probe stays at the entry.

Pure: machine code in, a `ProbePoint` out. The x86 decoding is capstone's; writing a decoder by
hand for this would be a liability. `function_code()` is the small ELF adapter (pyelftools).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from capstone import (
    CS_ARCH_X86,
    CS_GRP_CALL,
    CS_GRP_INT,
    CS_GRP_IRET,
    CS_GRP_JUMP,
    CS_GRP_RET,
    CS_MODE_64,
    Cs,
    CsError,
)
from capstone.x86_const import X86_OP_IMM

MAX_PREFIX_INSTRUCTIONS = 8

# The System V AMD64 integer argument registers, each with the names of its parts.
ARG_REGISTERS: tuple[frozenset[str], ...] = (
    frozenset({"rdi", "edi", "di", "dil"}),
    frozenset({"rsi", "esi", "si", "sil"}),
    frozenset({"rdx", "edx", "dx", "dl", "dh"}),
    frozenset({"rcx", "ecx", "cx", "cl", "ch"}),
    frozenset({"r8", "r8d", "r8w", "r8b"}),
    frozenset({"r9", "r9d", "r9w", "r9b"}),
)
STACK_POINTER = frozenset({"rsp", "esp", "sp", "spl"})


@dataclass(frozen=True)
class ProbePoint:
    offset: int  # bytes from the function's entry
    instruction: str  # the probed instruction, as capstone prints it
    emulated: bool  # the kernel emulates it (cheap) rather than single-stepping it
    reason: str  # why the probe is where it is


def is_emulated(code: bytes) -> bool:
    """Whether x86-64 Linux emulates this instruction for a uprobe (arch/x86/kernel/uprobes.c):
    push of a register (REX.B allowed), nop and the multi-byte 0F 1F nop, jmp/jcc/call rel."""
    if not code:
        return False
    b0 = code[0]
    if len(code) == 1:
        return b0 == 0x90 or 0x50 <= b0 <= 0x57
    if b0 == 0x41 and len(code) == 2 and 0x50 <= code[1] <= 0x57:
        return True
    if b0 == 0x66:  # operand-size prefixed nops (66 90, 66 0F 1F ...)
        return (code[1:2] == b"\x90" and len(code) == 2) or code[1:3] == b"\x0f\x1f"
    if b0 == 0x0F and len(code) >= 3 and code[1] == 0x1F:
        return True
    if b0 in (0xE8, 0xE9) and len(code) == 5:
        return True
    if (b0 == 0xEB or 0x70 <= b0 <= 0x7F) and len(code) == 2:
        return True
    return b0 == 0x0F and len(code) == 6 and 0x80 <= code[1] <= 0x8F


@lru_cache(maxsize=1)
def _disassembler() -> Cs:
    md = Cs(CS_ARCH_X86, CS_MODE_64)
    md.detail = True
    return md


def _branch_targets(code: bytes, base: int) -> set[int]:
    """Targets of the direct jumps and calls in `code` (a whole function, decoded linearly)."""
    targets = set()
    for insn in _disassembler().disasm(code, base):
        if insn.group(CS_GRP_JUMP) or insn.group(CS_GRP_CALL):
            for op in insn.operands:
                if op.type == X86_OP_IMM:
                    targets.add(op.imm)
    return targets


def choose(code: bytes, *, args: int, return_probe: bool, whole_function: bool = True) -> ProbePoint:
    """The probe point for a function whose machine code starts at `code[0]`.

    `args`: how many argument registers the entry program reads; `return_probe`: a uretprobe is
    attached at the same point. `whole_function` says `code` is the entire function, so jumps
    back into the prefix can be ruled out; without it only the entry is safe to move from when
    the entry itself is emulated.
    """
    md = _disassembler()
    needed = frozenset().union(*ARG_REGISTERS[:args])
    if return_probe:
        needed |= STACK_POINTER
    first = ""
    for count, insn in enumerate(md.disasm(code, 0)):
        text = f"{insn.mnemonic} {insn.op_str}".strip()
        if count == 0:
            first = text
        if is_emulated(bytes(insn.bytes)):
            if insn.address == 0:
                return ProbePoint(0, text, True, "the entry instruction is emulated")
            if not whole_function:
                return ProbePoint(0, first, False, "the function's extent is unknown")
            if any(0 < t <= insn.address for t in _branch_targets(code, 0)):
                return ProbePoint(0, first, False, "a jump lands inside the skipped instructions")
            return ProbePoint(insn.address, text, True, f"first emulated instruction; {count} skipped")
        if count + 1 >= MAX_PREFIX_INSTRUCTIONS:
            break
        if any(insn.group(g) for g in (CS_GRP_JUMP, CS_GRP_CALL, CS_GRP_RET, CS_GRP_INT, CS_GRP_IRET)):
            return ProbePoint(0, first, False, f"'{text}' transfers control before an emulated instruction")
        try:
            _, written = insn.regs_access()
        except CsError:  # an instruction capstone cannot describe: do not guess past it
            return ProbePoint(0, first, False, f"'{text}' has no register description")
        clobbered = {md.reg_name(r) for r in written} & needed
        if clobbered:
            return ProbePoint(0, first, False, f"'{text}' changes {', '.join(sorted(clobbered))} first")
    return ProbePoint(0, first, False, "no emulated instruction among the first ones")


@dataclass(frozen=True)
class FunctionCode:
    address: int  # the symbol's value: what bcc's attach_uprobe(addr=...) takes for a shared object
    code: bytes  # the whole function when its size is known, else the first bytes
    sized: bool


@lru_cache(maxsize=16)
def _dynamic_symbols(path: str) -> dict[str, tuple[int, int]]:
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        symbols: dict[str, tuple[int, int]] = {}
        for section_name in (".dynsym", ".symtab"):
            section = elf.get_section_by_name(section_name)
            if not isinstance(section, SymbolTableSection):
                continue
            for sym in section.iter_symbols():
                if sym["st_info"]["type"] == "STT_FUNC" and sym["st_value"]:
                    name = sym.name.split("@", 1)[0]
                    symbols.setdefault(name, (sym["st_value"], sym["st_size"]))
        return symbols


def function_code(path: str, symbol: str, *, fallback_bytes: int = 64) -> FunctionCode | None:
    """The machine code of `symbol` in the ELF file at `path`, or None when it is not there."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        found = _dynamic_symbols(path).get(symbol)
        if found is None:
            return None
        address, size = found
        with open(path, "rb") as fh:
            elf = ELFFile(fh)
            if elf["e_machine"] != "EM_X86_64":
                return None
            for seg in elf.iter_segments(type="PT_LOAD"):
                if seg["p_vaddr"] <= address < seg["p_vaddr"] + seg["p_filesz"]:
                    fh.seek(seg["p_offset"] + address - seg["p_vaddr"])
                    return FunctionCode(address, fh.read(size or fallback_bytes), bool(size))
    except (OSError, ELFError, ValueError, struct.error):  # unreadable or malformed: bcc resolves it
        return None
    return None


def probe_point(path: str | Path, symbol: str, *, args: int, return_probe: bool) -> tuple[int, ProbePoint] | None:
    """(symbol address, probe point) for `symbol` in the library at `path`; None when unreadable."""
    fc = function_code(str(path), symbol)
    if fc is None:
        return None
    return fc.address, choose(fc.code, args=args, return_probe=return_probe, whole_function=fc.sized)
