using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

/// <summary>
/// struct procmap_query of include/uapi/linux/fs.h (Linux 6.11): 104 bytes, u64 fields at 0..64,
/// u32 at 72..84, the name and build-id addresses at 88 and 96. Debian 12's headers predate it,
/// so it is declared here.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 104)]
internal struct ProcmapQueryArgs
{
    [FieldOffset(0)] public ulong Size;
    [FieldOffset(8)] public ulong QueryFlags;
    [FieldOffset(16)] public ulong QueryAddr;
    [FieldOffset(24)] public ulong VmaStart;
    [FieldOffset(32)] public ulong VmaEnd;
    [FieldOffset(40)] public ulong VmaFlags;
    [FieldOffset(48)] public ulong VmaPageSize;
    [FieldOffset(56)] public ulong VmaOffset;
    [FieldOffset(64)] public ulong Inode;
    [FieldOffset(72)] public uint DevMajor;
    [FieldOffset(76)] public uint DevMinor;
    [FieldOffset(80)] public uint VmaNameSize;
    [FieldOffset(84)] public uint BuildIdSize;
    [FieldOffset(88)] public ulong VmaNameAddr;
    [FieldOffset(96)] public ulong BuildIdAddr;

    /// <summary>The name's length without its terminating NUL (the kernel counts the NUL); 0 for no name.</summary>
    public readonly int NameLength => VmaNameSize == 0 ? 0 : (int)VmaNameSize - 1;
}

internal static partial class Libc
{
    /// <summary>PROCMAP_QUERY = _IOWR('f', 17, struct procmap_query): dir 3 &lt;&lt; 30 | size 104 &lt;&lt; 16 | 'f' &lt;&lt; 8 | 17.</summary>
    internal const uint PROCMAP_QUERY = 0xC0686611;

    internal const ulong PROCMAP_QUERY_VMA_READABLE = 0x01, PROCMAP_QUERY_VMA_WRITABLE = 0x02,
        PROCMAP_QUERY_VMA_EXECUTABLE = 0x04, PROCMAP_QUERY_VMA_SHARED = 0x08;

    /// <summary>The VMA that covers query_addr, or else the next one.</summary>
    internal const ulong PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10;

    // ioctl(int, unsigned long, ...): variadic, declared with fixed arity under the rule of
    // FixedArityVariadicCallsAreSafe (the third argument is a pointer).
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int ioctl_procmap_query(SafeFileHandle fd, nuint request, nint argument);

    /// <summary>
    /// The VMA that covers <paramref name="address"/> (or, with PROCMAP_QUERY_COVERING_OR_NEXT_VMA
    /// in <paramref name="flags"/>, the next one), through a /proc/PID/maps descriptor, with its
    /// name's exact bytes in <paramref name="name"/> (" (deleted)" appended for an unlinked file, no
    /// escaping). Failed with ENOTTY (or EINVAL) before 6.11, ENOENT when there is no such VMA,
    /// ENAMETOOLONG when <paramref name="name"/> is too small, ENOSYS where the call is not made.
    /// </summary>
    internal static unsafe SysResult ProcmapQuery(SafeFileHandle maps, ulong address, ulong flags, Span<byte> name, out ProcmapQueryArgs vma)
    {
        vma = default;
        if (!FixedArityVariadicCallsAreSafe)
        {
            return SysResult.FromErrorNumber("ioctl(PROCMAP_QUERY)", (int)Errno.ENOSYS);
        }

        fixed (byte* buffer = name)
        {
            var query = new ProcmapQueryArgs
            {
                Size = (ulong)sizeof(ProcmapQueryArgs),
                QueryFlags = flags,
                QueryAddr = address,
                VmaNameSize = (uint)name.Length,
                VmaNameAddr = (ulong)buffer,
            };
            SysResult result = SysResult.FromReturn("ioctl(PROCMAP_QUERY)", ioctl_procmap_query(maps, PROCMAP_QUERY, (nint)(&query)));
            if (!result.Failed)
            {
                vma = query;
            }

            return result;
        }
    }
}
