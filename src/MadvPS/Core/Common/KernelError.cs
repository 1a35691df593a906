using System;
using MadvPS.Interop;

namespace MadvPS.Core;

/// <summary>errno values as the layers above the core see them: by name, never as Interop types.</summary>
internal static class KernelError
{
    /// <summary>ENOMEM: out of memory, or (for madvise) a range that is not mapped.</summary>
    public const int ENOMEM = (int)Errno.ENOMEM;

    /// <summary>EACCES, EFAULT… for the values the module knows, else "errno N".</summary>
    public static string NameOf(int errno) => LinuxErrorException.NameOf(errno);

    /// <summary>The C library's own text for an errno ("Operation not permitted").</summary>
    public static string Describe(int errno) => LinuxErrorException.Describe(errno);

    /// <summary>
    /// Whether <paramref name="error"/> is a failed system call, and its errno: so that the
    /// Commands layer words and categorises it without the interop's exception type.
    /// </summary>
    public static bool TryGet(Exception error, out int errno)
    {
        errno = error is LinuxErrorException e ? e.ErrorNumber : 0;
        return errno != 0;
    }
}
