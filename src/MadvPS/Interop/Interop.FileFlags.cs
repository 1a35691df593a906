namespace MadvPS.Interop;

internal static partial class Libc
{
    // <fcntl.h>: the same on x86_64 and aarch64 (asm-generic/fcntl.h). Interop/ConstantsTests
    // compiles C against the real headers and compares.
    internal const int AT_FDCWD = -100;
    internal const int O_RDONLY = 0;
    internal const int O_WRONLY = 1;
    internal const int O_NOCTTY = 0x100;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_CLOEXEC = 0x80000;
}
