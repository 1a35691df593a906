using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // openat(2), Linux 2.6.16. glibc declares it variadic (a mode follows only with O_CREAT or
    // O_TMPFILE); the module never passes either, so no variadic argument is ever read.
    [LibraryImport(Name, EntryPoint = "openat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int openat_raw(int dirfd, string path, int flags);

    /// <summary>Opens <paramref name="path"/> relative to <paramref name="directory"/> (or the working directory when null).</summary>
    internal static SafeFileHandle OpenAt(SafeFileHandle? directory, string path, int flags, string detail)
    {
        int fd;
        if (directory is null)
        {
            fd = openat_raw(AT_FDCWD, path, flags | O_CLOEXEC);
        }
        else
        {
            bool added = false;
            try
            {
                directory.DangerousAddRef(ref added);
                fd = openat_raw((int)directory.DangerousGetHandle(), path, flags | O_CLOEXEC);
            }
            finally
            {
                if (added)
                {
                    directory.DangerousRelease();
                }
            }
        }

        SysResult.FromReturn("openat", fd).Check(detail);
        return new SafeFileHandle((nint)fd, ownsHandle: true);
    }
}
