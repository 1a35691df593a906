using System;
using System.Runtime.InteropServices;

namespace MadvPS.Interop;

internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "madvise", SetLastError = true)]
    private static partial int madvise_raw(IntPtr address, nuint length, int advice);

    /// <summary>
    /// madvise(NULL, 0, advice) answers 0 exactly when the running kernel knows the advice
    /// (mm/madvise.c validates the behaviour before it looks at the range).
    /// </summary>
    internal static bool KernelKnowsAdvice(int advice) => madvise_raw(IntPtr.Zero, 0, advice) == 0;
}
