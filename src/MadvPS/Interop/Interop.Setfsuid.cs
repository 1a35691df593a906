using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    // setfsuid(2). Per thread. It always returns the previous fsuid; an invalid id (-1) changes
    // nothing, so setfsuid(-1) reads the fsuid, the id the kernel's file permission checks use.
    [LibraryImport(Name, EntryPoint = "setfsuid")]
    private static partial int setfsuid_raw(uint fsuid);

    internal static uint CurrentFsuid => (uint)setfsuid_raw(uint.MaxValue);

    /// <summary>Sets the calling thread's fsuid and returns the previous one (tests use it to act as another user).</summary>
    internal static uint SetFsuid(uint fsuid) => (uint)setfsuid_raw(fsuid);
}
