using System;
using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // mincore(2): one byte per page of [address, address+length); bit 0 = in the page cache.
    [LibraryImport(Name, EntryPoint = "mincore", SetLastError = true)]
    private static unsafe partial int mincore_raw(IntPtr address, nuint length, byte* vector);

    /// <summary>Fills <paramref name="vector"/> (one byte a page) for a mapped range.</summary>
    internal static unsafe void Mincore(IntPtr address, nuint length, Span<byte> vector, string pathForErrors)
    {
        fixed (byte* first = vector)
        {
            SysResult.FromReturn("mincore", mincore_raw(address, length, first)).Check(pathForErrors);
        }
    }
}
