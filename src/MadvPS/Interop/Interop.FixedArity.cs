using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    /// <summary>
    /// True where glibc's variadic <c>syscall(long, ...)</c> and <c>open(const char*, int, ...)</c>
    /// may be called through a fixed-arity P/Invoke declaration.
    /// </summary>
    /// <remarks>
    /// The documented exception to "no variadic P/Invoke". .NET does not support calling variadic
    /// functions on Unix, because an ABI may pass variadic arguments differently from fixed ones.
    /// On the two Linux ABIs the module runs on they do not, for integer and pointer arguments:
    /// <list type="bullet">
    /// <item>x86-64 System V: variadic integers go in rdi, rsi, rdx, rcx, r8, r9 like fixed ones;
    /// the only extra is al (an upper bound of vector registers used), which glibc's assembly
    /// <c>syscall</c> never reads and which a C <c>va_start</c> prologue only uses to decide
    /// whether to spill xmm registers into its own frame.</item>
    /// <item>AAPCS64 on Linux (not on Apple platforms): variadic arguments follow the base
    /// procedure call standard, x0..x7.</item>
    /// </list>
    /// Every argument is passed as a pointer-sized integer so no register holds a half-defined
    /// value. Elsewhere (ppc64le's ELFv2 wants a parameter save area for variadic calls, 32-bit
    /// ABIs differ for 64-bit arguments) these calls are not made: cachestat counts as missing and
    /// files cannot be opened, with an error that says so.
    /// Considered and not taken: a C shim library (a native build per architecture to ship), an
    /// executable stub page (W^X policies and SELinux execmem refuse it), .NET's File.OpenHandle
    /// (it takes an flock(LOCK_SH) on the file, and fails when another process holds LOCK_EX).
    /// </remarks>
    internal static bool FixedArityVariadicCallsAreSafe =>
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;
}
