using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    /// <summary>SEEK_DATA and SEEK_HOLE of linux/fs.h (3.1): the next byte of data, or of a hole, at or after the offset.</summary>
    internal const int SEEK_DATA = 3;
    internal const int SEEK_HOLE = 4;

    // lseek(2). off_t is 64-bit on the 64-bit ABIs the module runs on.
    [LibraryImport(Name, EntryPoint = "lseek", SetLastError = true)]
    private static partial long lseek_raw(SafeFileHandle fd, long offset, int whence);

    /// <summary>
    /// The offset lseek gives, or -1 for ENXIO (no data, or no hole, at or after the offset: past the
    /// end). Other errors (EINVAL: a file system without SEEK_DATA, before 3.8) throw.
    /// </summary>
    internal static long Lseek(SafeFileHandle fd, long offset, int whence, string pathForErrors)
    {
        long result = lseek_raw(fd, offset, whence);
        if (result < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == (int)Errno.ENXIO)
            {
                return -1;
            }

            throw new LinuxErrorException("lseek", errno, pathForErrors);
        }

        return result;
    }
}
