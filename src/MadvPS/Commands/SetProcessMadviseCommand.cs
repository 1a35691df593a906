using System;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading.Tasks;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Advises a whole process, or its anonymous or file-backed part, in one go, the way Android's
/// system server compacts idle apps; reports RSS and Swap before and after.
/// </summary>
[Cmdlet(VerbsCommon.Set, "ProcessMadvise", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ProcessSelector.IdSet)]
[OutputType(typeof(ProcessAdviceResult))]
public sealed class SetProcessMadviseCommand : ProcessCommandBase
{
    private volatile bool _stopping;
    private volatile ProcessHandle? _current;

    /// <summary>Only the advices the kernel accepts for another process: Cold, PageOut, WillNeed, Collapse.</summary>
    [Parameter(Mandatory = true)]
    [ValidateSet(nameof(MemoryAdvice.Cold), nameof(MemoryAdvice.PageOut), nameof(MemoryAdvice.WillNeed), nameof(MemoryAdvice.Collapse), IgnoreCase = true)]
    [ArgumentCompleter(typeof(OtherProcessAdviceCompleter))]
    public MemoryAdvice Advice { get; set; }

    [Parameter]
    public MappingSelection MappingType { get; set; } = MappingSelection.All;

    /// <summary>Lets WillNeed bring in more than $MadvPSReadLimitPercent (50) percent of MemAvailable, after a confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Stops the process (SIGSTOP) from the reading of its mappings until the advice is done.</summary>
    [Parameter]
    public SwitchParameter Freeze { get; set; }

    protected override void ProcessRecord()
    {
        foreach ((ProcessTarget process, object input, bool foundByName) in ProcessSelector.Selected(this))
        {
            AdviseProcess(process, input, foundByName);
        }
    }

    protected override void StopProcessing()
    {
        _stopping = true;
        _current?.Resume();
    }

    private void AdviseProcess(ProcessTarget process, object target, bool foundByName = false)
    {
        int processId = process.ProcessId;
        if (_stopping)
        {
            return;
        }

        if (!AdviceFacts.AllowedForOtherProcess(Advice, KernelInfo.Version))
        {
            WriteError(ErrorRecords.AdviceNotAllowedForOtherProcess(Advice, processId, target));
            return;
        }

        var clock = Stopwatch.StartNew();
        try
        {
            // Open reads /proc/PID/stat after the pidfd, and checks the pidfd is still live after
            // that: the stat it keeps is the process the pidfd holds, with no earlier read needed.
            using ProcessHandle handle = ProcessHandle.Open(processId, expectedStartTime: null, expectedBootId: null);
            string name = ProcessNames.Resolve(processId, handle.Stat.Command);
            ProcessLookup.RequireAddressSpace(handle.Stat, name);
            _current = handle;
            try
            {
                if (Freeze)
                {
                    handle.Freeze();
                }

                // The totals before and the list of mappings are two walks of the kernel's that do
                // not depend on each other: on two cores they take the time of one.
                Task<ProcessMemory?> totalsBefore = Task.Run(() => MappingReader.ReadRollup(handle.Stat, name));
                var plan = new AdvicePlan(Advice);
                MappingSource source = AdviceMappings.Collect(handle.Stat, name, MappingType, plan, out string? smapsReason, stopping: () => _stopping);
                if (_stopping)
                {
                    // Ctrl+C: StopProcessing has resumed the process; the listing was left part way.
                    return;
                }

                ProcessMemory? before = totalsBefore.GetAwaiter().GetResult();
                WriteVerbose(source == MappingSource.Maps
                    ? $"Listed the mappings of process {processId} from /proc/{processId}/maps: no selected mapping can carry a VmFlag that makes {Advice} skip it."
                    : $"Listed the mappings of process {processId} from /proc/{processId}/smaps, for the VmFlags of each: {smapsReason}.");

                if (!ShouldProcess($"process {processId} ({name})", $"{Advice} on the {MappingType} mappings: {plan.RangesToSend} range(s), {Display.Bytes(plan.BytesToSend)}"))
                {
                    return;
                }

                if (AdvicePlan.BringsIn(Advice))
                {
                    // Swapped-out anonymous memory comes back from swap; file pages not resident are read.
                    long anonymous = MappingType == MappingSelection.File ? 0 : before?.Swap ?? plan.BytesToSend - plan.NonAnonymousBytesToSend;
                    long fileResident = before is null ? 0 : Math.Max(0, before.Rss - before.Anonymous);
                    long files = MappingType == MappingSelection.Anonymous ? 0 : Math.Max(0, plan.NonAnonymousBytesToSend - fileResident);
                    if (!ReadLimit.Allows(this, Force, anonymous + files, $"{Advice} on process {processId} ({name})", target))
                    {
                        return;
                    }
                }

                AdviceRun.Execute(this, plan, handle, () => _stopping);
                bool frozen = handle.IsFrozenByUs;
                handle.Resume();
                ProcessMemory? after = MappingReader.ReadRollup(handle.Stat, name);

                var result = new ProcessAdviceResult
                {
                    ProcessId = processId,
                    ThreadId = process.ThreadId,
                    ProcessName = name,
                    Advice = Advice,
                    MappingType = MappingType.ToString(),
                    Frozen = frozen,
                    Calls = plan.Calls,
                    RssBefore = before?.Rss ?? 0,
                    SwapBefore = before?.Swap ?? 0,
                    RssAfter = after?.Rss ?? 0,
                    SwapAfter = after?.Swap ?? 0,
                };
                var failures = new System.Collections.Generic.Dictionary<int, (int Count, long Bytes, PlannedRange First)>();
                foreach (PlannedRange range in plan.Ranges)
                {
                    result.RangesRequested++;
                    result.BytesRequested += range.Length;
                    result.BytesAdvised += range.Outcome.BytesAdvised;
                    if (range.SkipReason is not null)
                    {
                        result.RangesSkipped++;
                        WriteVerbose($"Skipped {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {range.SkipReason}");
                    }
                    else if (range.Outcome.Errno != 0)
                    {
                        result.RangesFailed++;
                        failures[range.Outcome.Errno] = failures.TryGetValue(range.Outcome.Errno, out var f)
                            ? (f.Count + 1, f.Bytes + range.Length, f.First)
                            : (1, range.Length, range);
                        WriteVerbose($"Failed {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {Interop.LinuxErrorException.NameOf(range.Outcome.Errno)}, {ErrorRecords.ExplainRange(Advice, range.Outcome.Errno)}");
                    }
                }

                // One error per kind of failure, with its reason: a run over many processes
                // collects them in -ErrorVariable without one record per range.
                // ENOMEM (not for Collapse) is a range the process unmapped after it was listed:
                // its memory is gone, not refused, so it is a warning.
                foreach ((int errno, (int count, long bytes, PlannedRange first)) in failures)
                {
                    string errName = Interop.LinuxErrorException.NameOf(errno);
                    string message =
                        $"{Advice} failed for {count} range(s) of process {processId} ({name}), {Display.Bytes(bytes)}, with {errName}: {ErrorRecords.ExplainRange(Advice, errno)} " +
                        $"The first: {first.Start:x}-{first.Start + (ulong)first.Length:x} {first.Path}. The other ranges were advised (see RangesFailed and BytesAdvised); -Verbose lists each.";
                    if (errno == (int)Interop.Errno.ENOMEM && Advice != MemoryAdvice.Collapse)
                    {
                        WriteWarning(message);
                    }
                    else
                    {
                        WriteError(new ErrorRecord(new InvalidOperationException(message), "RangeAdviceFailed", ErrorRecords.CategoryOf(errno), target));
                    }
                }

                result.RssReclaimed = result.RssBefore - result.RssAfter;
                result.Duration = clock.Elapsed;
                WriteObject(result);
            }
            finally
            {
                _current = null;
                handle.Resume();
            }
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.NotFound && ProcessStat.TryRead(processId) is null)
        {
            WriteVerbose($"Process {processId} exited before it could be advised.");
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.KernelThread or ProcessAccessFailure.Zombie)
        {
            WriteVerbose(e.Message);
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (ProcessAdviceException e)
        {
            WriteError(ErrorRecords.ForWholeCall(e, Advice, processId, target));
        }
        catch (SmapsFormatException e)
        {
            WriteError(ErrorRecords.ForFormat(e, processId));
        }
        catch (Interop.LinuxErrorException e)
        {
            // A freeze or resume refused: this process only, and the next one is advised.
            WriteError(new ErrorRecord(
                new InvalidOperationException($"Advising process {processId} failed: {e.Message} Nothing more was sent to it.", e),
                "ProcessAdviceFailed", ErrorRecords.CategoryOf(e.ErrorNumber), target));
        }
    }
}
