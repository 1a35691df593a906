using System;
using System.Diagnostics;
using System.Management.Automation;
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
    [AdviceTransformation]
    [ValidateOtherProcessAdvice]
    [ArgumentCompleter(typeof(OtherProcessAdviceCompleter))]
    public string Advice { get => _advice.ToString(); set => _advice = AdviceTransformationAttribute.Parse(value); }

    /// <summary>-Advice as the enum: what the object model and the kernel calls use.</summary>
    private MemoryAdvice _advice;

    [Parameter]
    public MappingSelection MappingType { get; set; } = MappingSelection.All;

    /// <summary>Lets WillNeed bring in more than $MadvPSReadLimitPercent (50) percent of MemAvailable, after a confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Stops the process (SIGSTOP) from the reading of its mappings until the advice is done.</summary>
    [Parameter]
    public SwitchParameter Freeze { get; set; }

    /// <summary>The longest a -Freeze may last: the process is resumed then, whatever the cmdlet is doing.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan FreezeTimeout { get; set; } = FreezeRequest.DefaultMaxLength;

    protected override void BeginProcessing() => Freezing.ValidateTimeout(this, FreezeTimeout);

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

        if (!AdviceFacts.AllowedForOtherProcess(_advice, KernelInfo.Version))
        {
            WriteError(ErrorRecords.AdviceNotAllowedForOtherProcess(_advice, processId, target));
            return;
        }

        try
        {
            // -WhatIf changes nothing, so it does not stop the process either.
            FreezeRequest? freeze = Freeze && !Freezing.IsWhatIf(this) ? new FreezeRequest(FreezeTimeout, FreezeRequest.DefaultStopDeadline) : null;
            using ProcessAdviceRun run = ProcessAdviceRun.Prepare(processId, process.Stat.StartTime, _advice, MappingType, freeze, () => _stopping);
            _current = run.Handle;
            try
            {
                if (run.Stopped)
                {
                    // Ctrl+C: StopProcessing has resumed the process; the listing was left part way.
                    return;
                }

                Freezing.WarnIfNotFrozen(this, run.Freeze, processId, run.ProcessName);
                AdvicePlan plan = run.Plan;
                WriteVerbose(run.Source == MappingSource.Maps
                    ? $"Listed the mappings of process {processId} from /proc/{processId}/maps: no selected mapping can carry a VmFlag that makes {_advice} skip it."
                    : $"Listed the mappings of process {processId} from /proc/{processId}/smaps, for the VmFlags of each: {FailureText.SmapsCause(run.SmapsReason)}.");

                if (!ShouldProcess($"process {processId} ({run.ProcessName})", $"{_advice} on the {MappingType} mappings: {plan.RangesToSend} range(s), {Display.Bytes(plan.BytesToSend)}: {(run.Forecast is { } forecast ? FailureText.Forecast(forecast, _advice) : "")}"))
                {
                    return;
                }

                if (AdvicePlan.BringsIn(_advice))
                {
                    // Swapped-out anonymous memory comes back from swap; file pages not resident are read.
                    ProcessMemory? before = run.Before;
                    long anonymous = MappingType == MappingSelection.File ? 0 : before?.Swap ?? plan.BytesToSend - plan.NonAnonymousBytesToSend;
                    long fileResident = before is null ? 0 : Math.Max(0, before.Rss - before.Anonymous);
                    long files = MappingType == MappingSelection.Anonymous ? 0 : Math.Max(0, plan.NonAnonymousBytesToSend - fileResident);
                    if (!ReadLimit.Allows(this, Force, anonymous + files, $"{_advice} on process {processId} ({run.ProcessName})", target))
                    {
                        return;
                    }
                }

                ProcessAdviceResult result = AdviceRun.Execute(this, plan, run.Handle, () => _stopping, run.Execute);
                result.ThreadId = process.ThreadId;
                var failures = new System.Collections.Generic.Dictionary<int, (int Count, long Bytes, PlannedRange First)>();
                foreach (PlannedRange range in plan.Ranges)
                {
                    if (range.Skip is not null)
                    {
                        WriteVerbose($"Skipped {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {FailureText.Skip(range.Skip)}");
                    }
                    else if (range.Outcome.Errno != 0)
                    {
                        failures[range.Outcome.Errno] = failures.TryGetValue(range.Outcome.Errno, out var f)
                            ? (f.Count + 1, f.Bytes + range.Length, f.First)
                            : (1, range.Length, range);
                        WriteVerbose($"Failed {range.Start:x}-{range.Start + (ulong)range.Length:x} {range.Path}: {KernelError.NameOf(range.Outcome.Errno)}, {FailureText.Range(_advice, range.Outcome.Errno)}");
                    }
                }

                // One error per kind of failure, with its reason: a run over many processes
                // collects them in -ErrorVariable without one record per range.
                // ENOMEM (not for Collapse) is a range the process unmapped after it was listed (the
                // .NET runtime remaps its JIT's memfd pages all the time): its memory is gone, not
                // refused, so it is said with -Verbose only.
                foreach ((int errno, (int count, long bytes, PlannedRange first)) in failures)
                {
                    string errName = KernelError.NameOf(errno);
                    string message =
                        $"{_advice} failed for {count} range(s) of process {processId} ({run.ProcessName}), {Display.Bytes(bytes)}, with {errName}: {FailureText.Range(_advice, errno)} " +
                        $"The first: {first.Start:x}-{first.Start + (ulong)first.Length:x} {first.Path}. The other ranges were advised (see RangesFailed and BytesAdvised); -Verbose lists each.";
                    if (errno == KernelError.ENOMEM && _advice != MemoryAdvice.Collapse)
                    {
                        WriteVerbose($"{count} range(s) of process {processId} ({run.ProcessName}), {Display.Bytes(bytes)}, were unmapped by the process after the listing, so there was nothing left to advise (ENOMEM). The first: {first.Start:x}-{first.Start + (ulong)first.Length:x} {first.Path}.");
                    }
                    else
                    {
                        WriteError(new ErrorRecord(new InvalidOperationException(message), "RangeAdviceFailed", ErrorRecords.CategoryOf(errno), target));
                    }
                }

                WriteObject(result);
            }
            finally
            {
                _current = null;
            }
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.NotFound or ProcessAccessFailure.Exited && ProcessStat.TryRead(processId) is not { State: not ('Z' or 'X') })
        {
            // Found by name and gone (or a zombie) since: a short-lived process of that name, not an error.
            WriteVerbose($"Process {processId} exited before it could be advised.");
        }
        catch (ProcessAccessException e) when (foundByName && e.Failure is ProcessAccessFailure.KernelThread or ProcessAccessFailure.Zombie)
        {
            WriteVerbose(FailureText.Of(e));
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, target));
        }
        catch (ProcessAdviceException e)
        {
            WriteError(ErrorRecords.ForWholeCall(e, _advice, processId, target));
        }
        catch (SmapsFormatException e)
        {
            WriteError(ErrorRecords.ForFormat(e, processId));
        }
        catch (Exception e) when (KernelError.TryGet(e, out int errno))
        {
            // A freeze or resume refused: this process only, and the next one is advised.
            WriteError(new ErrorRecord(
                new InvalidOperationException($"Advising process {processId} failed: {FailureText.Of(e)} Nothing more was sent to it.", e),
                "ProcessAdviceFailed", ErrorRecords.CategoryOf(errno), target));
        }
    }
}
