using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

/// <summary>
/// struct procmap_query of include/uapi/linux/fs.h (Linux 6.11): 104 bytes; Debian 12's headers
/// predate it, so it is declared here.
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
}

internal static partial class Libc
{
    /// <summary>PROCMAP_QUERY = _IOWR('f', 17, struct procmap_query).</summary>
    internal const uint PROCMAP_QUERY = 0xC0686611;

    /// <summary>The VMA that covers query_addr, or else the next one (PROCMAP_QUERY_COVERING_OR_NEXT_VMA).</summary>
    internal const ulong PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10;

    // ioctl(int, unsigned long, ...): variadic, declared with fixed arity under the rule of
    // FixedArityVariadicCallsAreSafe (the third argument is a pointer).
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int ioctl_raw(SafeFileHandle fd, nuint request, nint argument);

    /// <summary>
    /// The exact name bytes of the VMA that covers <paramref name="address"/>, as the kernel keeps
    /// them (with " (deleted)" appended for an unlinked file, no escaping): an ioctl on a
    /// /proc/PID/maps descriptor. Returns 0 with the name's length (without the NUL) in
    /// <paramref name="nameLength"/>, or the errno: ENOTTY before 6.11, ENOENT when no VMA covers
    /// the address, ENAMETOOLONG when <paramref name="name"/> is too small.
    /// </summary>
    internal static unsafe int ProcmapQuery(SafeFileHandle maps, ulong address, Span<byte> name, out ulong vmaStart, out int nameLength)
    {
        vmaStart = 0;
        nameLength = 0;
        if (!FixedArityVariadicCallsAreSafe)
        {
            return (int)Errno.ENOSYS;
        }

        fixed (byte* buffer = name)
        {
            var query = new ProcmapQueryArgs
            {
                Size = (ulong)sizeof(ProcmapQueryArgs),
                QueryAddr = address,
                VmaNameSize = (uint)name.Length,
                VmaNameAddr = (ulong)buffer,
            };
            if (ioctl_raw(maps, PROCMAP_QUERY, (nint)(&query)) != 0)
            {
                return Marshal.GetLastPInvokeError();
            }

            vmaStart = query.VmaStart;
            // vma_name_size comes back as the length with the terminating NUL; 0 for no name.
            nameLength = query.VmaNameSize == 0 ? 0 : (int)query.VmaNameSize - 1;
            return 0;
        }
    }
}
