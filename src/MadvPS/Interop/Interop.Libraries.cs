using System;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // glibc 2.36 (Debian 12) exports named wrappers for every call the module makes.
    internal const string Name = "libc.so.6";

    // A path handed to a call as bytes must end in its NUL, or the kernel reads past the buffer.
    private static void RequireNul(ReadOnlySpan<byte> path)
    {
        if (path.IsEmpty || path[^1] != 0)
        {
            throw new ArgumentException("A path passed as bytes must end in a NUL.", nameof(path));
        }
    }
}
