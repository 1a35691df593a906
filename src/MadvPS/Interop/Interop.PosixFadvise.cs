using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // posix_fadvise(3), the fadvise64 syscall. It returns the error number instead of -1 and
    // errno, so there is no SetLastError. off_t is 64-bit on the 64-bit ABIs the module runs on.
    [LibraryImport(Name, EntryPoint = "posix_fadvise")]
    private static partial int posix_fadvise_raw(SafeFileHandle fd, long offset, long length, int advice);

    /// <summary>Failed with EINVAL (bad advice or negative length) or ESPIPE (a pipe), else 0.</summary>
    internal static SysResult PosixFadvise(SafeFileHandle fd, long offset, long length, int advice) =>
        SysResult.FromErrorNumber("posix_fadvise", posix_fadvise_raw(fd, offset, length, advice));
}
