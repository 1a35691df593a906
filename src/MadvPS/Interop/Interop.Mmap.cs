using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    internal const int PROT_READ = 1;
    internal const int MAP_SHARED = 1;
    private static readonly IntPtr MAP_FAILED = new(-1);

    // mmap(2) and munmap(2).
    [LibraryImport(Name, EntryPoint = "mmap", SetLastError = true)]
    private static partial IntPtr mmap_raw(IntPtr address, nuint length, int protection, int flags, SafeFileHandle fd, long offset);

    [LibraryImport(Name, EntryPoint = "munmap", SetLastError = true)]
    private static partial int munmap_raw(IntPtr address, nuint length);

    /// <summary>A shared, read-only mapping of part of a file (offset page-aligned).</summary>
    internal static IntPtr MapReadOnly(SafeFileHandle fd, long offset, nuint length, string pathForErrors)
    {
        IntPtr address = mmap_raw(IntPtr.Zero, length, PROT_READ, MAP_SHARED, fd, offset);
        SysResult.FromReturn("mmap", address == MAP_FAILED ? -1 : 0).Check(pathForErrors);
        return address;
    }

    internal static void Unmap(IntPtr address, nuint length)
    {
        SysResult.FromReturn("munmap", munmap_raw(address, length)).Check();
    }
}
