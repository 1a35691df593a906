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
}
