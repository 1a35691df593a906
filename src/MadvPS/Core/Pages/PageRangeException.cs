using System;

namespace MadvPS.Core;

/// <summary>Why a range's pages cannot be read.</summary>
internal enum PageRangeProblem
{
    /// <summary>Start plus length wraps past the end of the address space.</summary>
    Wraps,
    /// <summary>Outside the user address space ([vsyscall] or the kernel's half).</summary>
    OutsideUserSpace,
    /// <summary>pagemap had nothing: outside the user address space, or the address space was replaced (exec).</summary>
    OutsideUserSpaceOrReplaced,
    /// <summary>pagemap had nothing: the process replaced its address space (exec) since it was opened.</summary>
    AddressSpaceReplaced,
}

/// <summary>A range whose pages cannot be read, and why (Commands/FailureText.cs words it).</summary>
internal sealed class PageRangeException : Exception
{
    public PageRangeException(ulong start, ulong length, PageRangeProblem problem)
        : base($"0x{start:x}-0x{start + length:x}: {problem}.")
    {
        Start = start;
        Length = length;
        Problem = problem;
    }

    public ulong Start { get; }
    public ulong Length { get; }
    public PageRangeProblem Problem { get; }
}
