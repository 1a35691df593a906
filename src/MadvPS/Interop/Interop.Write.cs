using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // write(2). The descriptor is a SafeHandle so that it cannot be closed, and its number
    // reused by another open, while the call runs.
    [LibraryImport(Name, EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint write_raw(SafeFileHandle fd, byte* buffer, nuint count);

    /// <summary>Writes all of <paramref name="bytes"/> in one call; a short write is an EIO error.</summary>
    internal static unsafe void Write(SafeFileHandle fd, ReadOnlySpan<byte> bytes, string detail)
    {
        long written;
        fixed (byte* p = bytes)
        {
            written = SysResult.FromReturn("write", write_raw(fd, p, (nuint)bytes.Length)).Check(detail);
        }

        if (written != bytes.Length)
        {
            throw new LinuxErrorException("write", (int)Errno.EIO, $"{detail} (short write: {written} of {bytes.Length} bytes)");
        }
    }
}
