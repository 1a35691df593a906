using System;
using MadvPS.Interop;
using Microsoft.Win32.SafeHandles;

namespace MadvPS.Core;

/// <summary>
/// The kernel's rules for /proc/PID/clear_refs (fs/proc/task_mmu.c, checked against v6.19 and on
/// 6.18; docs/kernel-facts.md, "clear_refs"), in one place.
/// </summary>
internal static class ClearRefs
{
    /// <summary>
    /// The value written for a selection. 1 clears the accessed ("young") bit of every present
    /// page-table entry and the page's PG_referenced (and its idle-tracking young flag): Linux
    /// 2.6.22. 2 and 3 (Linux 2.6.32) do the same only in VMAs without and with a backing file
    /// (vma->vm_file), so memfds, shared anonymous and System V memory count as files, and the
    /// copied-on-write pages of a private file mapping count as file too (verified on 6.18).
    /// </summary>
    public static int ValueFor(MappingSelection selection) => selection switch
    {
        MappingSelection.All => 1,
        MappingSelection.Anonymous => 2,
        MappingSelection.File => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(selection)),
    };

    /// <summary>
    /// Whether a write of <see cref="ValueFor"/> clears the bits of this mapping, so that its
    /// Referenced figure afterwards counts only what was touched since. Never: PFN maps
    /// (clear_refs_test_walk skips VM_PFNMAP), hugetlb (clear_refs_walk_ops has no hugetlb_entry,
    /// so the walk passes over it), and [vsyscall], [vvar] and [vdso] (the gate area is outside
    /// every VMA; the others are kernel pages, not the process's memory). Otherwise the
    /// Anonymous / File split is the one <see cref="AdvicePolicy.Selects"/> draws, by backing file.
    /// </summary>
    public static bool Measures(MappingSelection selection, MappingKind kind, VmFlags flags) =>
        (flags & (VmFlags.PfnMap | VmFlags.HugeTlb)) == 0 && AdvicePolicy.Selects(selection, kind);

    /// <summary>
    /// Opens clear_refs for writing. The file is mode 0200 and owned by the process's user (root
    /// when the process is not dumpable), so writing needs that user or CAP_DAC_OVERRIDE; the
    /// kernel checks at open (EACCES), so a process that may not be measured is known before
    /// anything is cleared. The descriptor stays open: each write clears again.
    /// </summary>
    public static SafeFileHandle Open(ProcDirectory directory, string processName)
    {
        try
        {
            return directory.OpenWrite("clear_refs");
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.EACCES or Errno.EPERM)
        {
            throw new ClearRefsDeniedException(directory.ProcessId, processName, e);
        }
        catch (LinuxErrorException e) when (e.Errno is Errno.ESRCH or Errno.ENOENT)
        {
            throw new ProcessAccessException(ProcessAccessFailure.Exited, directory.ProcessId, e) { ProcessName = processName };
        }
    }

    /// <summary>Clears. A zombie answers success and has nothing to clear; a reaped process ESRCH.</summary>
    public static void Write(SafeFileHandle clearRefs, MappingSelection selection, int processId)
    {
        ReadOnlySpan<byte> value = stackalloc byte[] { (byte)('0' + ValueFor(selection)) };
        Libc.Write(clearRefs, value, $"/proc/{processId}/clear_refs");
    }
}

/// <summary>The caller may not write /proc/PID/clear_refs of the process (Commands/FailureText.cs words it).</summary>
internal sealed class ClearRefsDeniedException : Exception
{
    public ClearRefsDeniedException(int processId, string processName, Exception? inner = null)
        : base($"Writing /proc/{processId}/clear_refs of process {processId} ({processName}) was denied.", inner)
    {
        ProcessId = processId;
        ProcessName = processName;
    }

    public int ProcessId { get; }
    public string ProcessName { get; }
}
