namespace MadvPS.Interop;

internal static partial class Libc
{
    // glibc 2.36 (Debian 12) exports named wrappers for every call the module makes.
    internal const string Name = "libc.so.6";
}
