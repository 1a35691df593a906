using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // posix_fadvise(3), the fadvise64 syscall. It returns the error number instead of -1 and
    // errno, so there is no SetLastError. off_t is 64-bit on the 64-bit ABIs the module runs on.
    [LibraryImport(Name, EntryPoint = "posix_fadvise")]
    private static partial int posix_fadvise_raw(SafeFileHandle fd, long offset, long length, int advice);

    /// <summary>Returns 0 or the errno (EINVAL: bad advice or negative length; ESPIPE: a pipe).</summary>
    internal static int PosixFadvise(SafeFileHandle fd, long offset, long length, int advice) =>
        posix_fadvise_raw(fd, offset, length, advice);
}
