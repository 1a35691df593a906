using System;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Gives an advice to the ranges piped in (MemoryMapping objects, deserialized ones, CSV rows) or
/// named with -Id, -Address and -Length, with process_madvise over a pidfd, many ranges a call.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "MemoryAdvice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AdviceResult))]
public sealed class InvokeMemoryAdviceCommand : PSCmdlet
{
    private readonly Dictionary<(int, ulong?, string?, ulong?), Batch> _batches = new();
    private readonly List<Batch> _order = new();
    private volatile bool _stopping;
    private volatile ProcessHandle? _current;

    [Parameter(Mandatory = true, Position = 0)]
    [AdviceTransformation]
    [ArgumentCompleter(typeof(AdviceCompleter))]
    public string Advice { get => _advice.ToString(); set => _advice = AdviceTransformationAttribute.Parse(value); }

    /// <summary>-Advice as the enum: what the object model and the kernel calls use.</summary>
    private MemoryAdvice _advice;

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ProcessId")]
    [ValidateRange(1, int.MaxValue)]
    [ArgumentCompleter(typeof(ProcessIdCompleter))]
    public int Id { get; set; }

    /// <summary>The first byte of the range; a MemoryMapping's Start.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Start")]
    public ulong Address { get; set; }

    /// <summary>The length of the range in bytes; a MemoryMapping's Size.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Size")]
    [ValidateRange(1, long.MaxValue)]
    public long Length { get; set; }

    /// <summary>The start time the process had when the range was read; advice is refused if the PID now has another.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public ulong? ProcessStartTime { get; set; }

    /// <summary>The boot id of the host the range was read on; advice is refused on any other host or boot.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? BootId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public VmFlags? VmFlags { get; set; }

    /// <summary>The program the process ran when the range was read (MemoryMapping.ExecutableId); ranges read before an exec are refused.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [AllowEmptyString]
    public string? ExecutableId { get; set; }

    /// <summary>The PID namespace the range was read in; advice is refused in any other, where its ProcessId names another process.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong? PidNamespace { get; set; }

    /// <summary>The host a deserialized object or CSV row was read on (Invoke-Command's PSComputerName); named when its BootId is not this host's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("PSComputerName")]
    [AllowEmptyString]
    public string? ReadOn { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public MappingKind? Kind { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [Alias("Path")]
    [AllowEmptyString]
    public string? MappingPath { get; set; }

    // The rest of a mapping's identity (MemoryMapping's Permissions, Device, Inode, Offset): the
    // range is sent only while it lies in a VMA that still has the identity that was read.
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [AllowEmptyString]
    public string? Permissions { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    [AllowEmptyString]
    public string? Device { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong? Inode { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong? Offset { get; set; }

    /// <summary>A MemoryMapping's End: with its Start, the bounds of the VMA as read.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public ulong? End { get; set; }

    // A MemoryMapping's smaps figures, for the forecast of what the advice will take.
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? Rss { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? PrivateClean { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? PrivateDirty { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? SharedClean { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? SharedDirty { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? Anonymous { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? Swap { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public long? Locked { get; set; }

    /// <summary>Stops the process (SIGSTOP) from the check of its ranges until the advice is done.</summary>
    [Parameter]
    public SwitchParameter Freeze { get; set; }

    /// <summary>The longest a -Freeze may last: the process is resumed then, whatever the cmdlet is doing.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan FreezeTimeout { get; set; } = FreezeRequest.DefaultMaxLength;

    /// <summary>Allows advice that destroys data (DontNeed, Free, Remove…) on the calling process itself, and WillNeed or Populate* above the memory limit.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void BeginProcessing() => Freezing.ValidateTimeout(this, FreezeTimeout);

    protected override void ProcessRecord()
    {
        var key = (Id, ProcessStartTime, BootId, PidNamespace);
        if (!_batches.TryGetValue(key, out Batch? batch))
        {
            batch = new Batch(Id, ProcessStartTime, BootId, ReadOn, PidNamespace, new AdvicePlan(_advice)) { ExecutableId = NullIfEmpty(ExecutableId) };
            _batches.Add(key, batch);
            _order.Add(batch);
        }

        // The bounds of the VMA as read: only a mapping's object (it has Permissions) carries them.
        ulong? vmaEnd = string.IsNullOrEmpty(Permissions) ? null : End;
        batch.Plan.Add(Address, Length, MappingPath ?? "", VmFlags, Kind,
            new MappingIdentity(NullIfEmpty(Permissions), NullIfEmpty(Device), Inode, Offset, MappingPath, vmaEnd is null ? null : Address, vmaEnd), Rss, Swap);
        if (Rss is long rss)
        {
            batch.Plan.Ranges[^1].Figures = new ResidentFigures
            {
                Rss = rss,
                PrivateResident = (PrivateClean ?? 0) + (PrivateDirty ?? 0),
                Anonymous = Anonymous ?? 0,
                Swap = Swap ?? 0,
                Shared = (SharedClean ?? 0) + (SharedDirty ?? 0),
                Locked = Locked ?? 0,
            };
        }
    }

    protected override void EndProcessing()
    {
        foreach (Batch batch in _order)
        {
            if (_stopping)
            {
                return;
            }

            Advise(batch);
        }
    }

    protected override void StopProcessing()
    {
        _stopping = true;
        _current?.Resume();
    }

    private void Advise(Batch batch)
    {
        AdvicePlan plan = batch.Plan;
        AdviceFact fact = AdviceFacts.Of(_advice);

        // Same boot, other PID namespace (a container): the PID is numbered differently here. The
        // boot check comes first (in ProcessHandle.Open) only for objects of this namespace.
        ulong here = ProcessIdentity.CurrentPidNamespace;
        if (batch.PidNamespace is ulong there && there != 0 && here != 0 && there != here
            && (batch.BootId is null || string.Equals(batch.BootId, ProcessIdentity.CurrentBootId, StringComparison.OrdinalIgnoreCase)))
        {
            var failure = new ProcessAccessException(ProcessAccessFailure.OtherPidNamespace, batch.ProcessId)
            {
                Activity = ProcessActivity.Advising,
                Mismatch = IdentityCheck.PidNamespace,
                Expected = there.ToString(CultureInfo.InvariantCulture),
                Found = here.ToString(CultureInfo.InvariantCulture),
            };
            WriteError(ErrorRecords.ForProcess(failure, batch.ProcessId));
            return;
        }

        // A thread's ID means its process: the memory is the process's (and the pwsh's own
        // threads are the caller itself).
        ProcessTarget process;
        try
        {
            process = ProcessLookup.Resolve(batch.ProcessId);
        }
        catch (ProcessAccessException e)
        {
            WriteError(ErrorRecords.ForProcess(e, batch.ProcessId));
            return;
        }

        int processId = process.ProcessId;
        bool self = processId == Environment.ProcessId;

        if (!self && !AdviceFacts.AllowedForOtherProcess(_advice, KernelInfo.Version))
        {
            WriteError(ErrorRecords.AdviceNotAllowedForOtherProcess(_advice, processId, batch.ProcessId));
            return;
        }

        if (self && !AdviceFacts.AllowedForSelf(_advice, KernelInfo.Version))
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"process_madvise takes {_advice} for the calling process only from Linux {AdviceFacts.AnyAdviceForSelfSince}; this is Linux {KernelInfo.Version}. Nothing was sent."),
                "AdviceNotAllowedForSelf", ErrorCategory.InvalidOperation, batch.ProcessId));
            return;
        }

        if (self && fact.DestroysData && !Force)
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"{_advice} destroys the contents of the ranges in this PowerShell process ({processId}). Add -Force, and confirm, if that is what you want. Nothing was sent."),
                "DestructiveAdviceNeedsForce", ErrorCategory.InvalidOperation, batch.ProcessId));
            return;
        }

        if (self && fact.DestroysData)
        {
            // This process cannot be frozen while it advises itself, and the kernel shows no
            // generation for a VMA: the most the check can see is that the VMA a mapping was read
            // from is still there whole, with the bounds it had. One that grew, shrank, split,
            // merged or was replaced by one of another size is refused; read the mappings again.
            foreach (PlannedRange range in plan.Ranges)
            {
                range.SameBounds = true;
            }
        }

        ProcessHandle? opened = null;
        try
        {
            opened = ProcessHandle.Open(processId, batch.StartTime, batch.BootId, batch.ReadOn);
            ProcessLookup.RequireAddressSpace(opened.Stat, ProcessNames.Resolve(processId, opened.Stat.Command));
            if (batch.ExecutableId is string expected && ExecutableIdentity.Read(processId) is { Length: > 0 } now && now != expected)
            {
                throw new ProcessAccessException(ProcessAccessFailure.IdentityChanged, processId)
                {
                    Activity = ProcessActivity.Advising,
                    Mismatch = IdentityCheck.Executable,
                    Expected = expected,
                    Found = now,
                };
            }
        }
        catch (ProcessAccessException e)
        {
            opened?.Dispose();
            WriteError(ErrorRecords.ForProcess(e, batch.ProcessId));
            return;
        }

        ProcessHandle handle = opened;

        using (handle)
        {
            string name = ProcessNames.Resolve(handle.ProcessId, handle.Stat.Command);
            AdviceForecast forecast;
            try
            {
                forecast = plan.Foretell(handle.Stat, name, KernelInfo.SwapFree);
            }
            catch (ProcessAccessException e)
            {
                WriteError(ErrorRecords.ForProcess(e, batch.ProcessId));
                return;
            }

            string action = $"{_advice} on {plan.RangesToSend} range(s), {Display.Bytes(plan.BytesToSend)}" +
                (plan.Ranges.Count > plan.RangesToSend ? $" ({plan.Ranges.Count - plan.RangesToSend} skipped)" : "") +
                $": {FailureText.Forecast(forecast, _advice)}";
            string target = $"process {handle.ProcessId} ({name})";
            if (!ShouldProcess(target, action))
            {
                return;
            }

            if (fact.DestroysData && !ConfirmedDestructive(target))
            {
                return;
            }

            // After the data-safety refusals and the confirmation, before anything is sent.
            if (!AdviceFacts.KernelKnows(_advice))
            {
                WriteError(new ErrorRecord(
                    new NotSupportedException($"This kernel (Linux {KernelInfo.Version}) does not know {_advice} ({(int)_advice}): madvise answers EINVAL for it whatever the range, and Get-MemoryAdviceSupport shows KnownByKernel False." +
                        (_advice is MemoryAdvice.HwPoison or MemoryAdvice.SoftOffline ? " It needs a kernel built with CONFIG_MEMORY_FAILURE." : "") + " Nothing was sent."),
                    "AdviceUnknownToKernel", ErrorCategory.NotImplemented, batch.ProcessId));
                return;
            }

            if (AdvicePlan.BringsIn(_advice) && !ReadLimit.Allows(this, Force, plan.BytesToBringIn, $"{_advice} on {target}", batch.ProcessId))
            {
                return;
            }

            _current = handle;
            try
            {
                // Checked after ShouldProcess, so that -WhatIf neither stops nor reads more.
                if (Freeze)
                {
                    FreezeOutcome outcome = handle.Freeze(new FreezeRequest(FreezeTimeout, FreezeRequest.DefaultStopDeadline));
                    Freezing.WarnIfNotFrozen(this, outcome, handle.ProcessId, name);
                }

                if (_stopping)
                {
                    return;
                }

                // Each call's ranges are checked just before it (ExecuteChecked), never after.
                LiveCheck checkedBy = AdviceRun.Execute(this, plan, handle, () => _stopping, (stop, onCall, progress) => plan.ExecuteChecked(handle, stop, onCall, progress));
                WriteVerbose($"Checked the ranges of process {handle.ProcessId} against its live mappings ({FailureText.LiveCheck(checkedBy)}), each before the call that carried it.");
                handle.Resume();
            }
            catch (ProcessAccessException e)
            {
                WriteError(ErrorRecords.ForProcess(e, batch.ProcessId));
                return;
            }
            catch (ProcessAdviceException e)
            {
                WriteError(ErrorRecords.ForWholeCall(e, _advice, handle.ProcessId, batch.ProcessId));
                return;
            }
            finally
            {
                _current = null;
            }

            // The measured effect beside the foretold one: the ranges' RSS now, from one read of smaps.
            List<MemoryMapping>? after = null;
            if (PassThru)
            {
                try
                {
                    after = new List<MemoryMapping>(MappingReader.ReadMappings(handle.Stat, name));
                }
                catch (ProcessAccessException)
                {
                    // Exited after the advice: nothing left to measure.
                }
            }

            foreach (PlannedRange range in plan.Ranges)
            {
                AdviceResult result = AdviceResults.For(range, handle.ProcessId, name, _advice);
                if (after is not null)
                {
                    result.ReclaimedBytes = range.Foreseen.Rss - AdviceForecast.FromLive(after, range.Start, range.Length).Rss;
                }

                result.ThreadId = process.ThreadId;
                if (result.Status == AdviceStatus.Failed)
                {
                    WriteError(AdviceResults.RangeFailed(result, range.Outcome.Errno));
                }
                else if (result.Status == AdviceStatus.Changed)
                {
                    WriteError(AdviceResults.RangeChanged(result));
                }

                if (PassThru)
                {
                    WriteObject(result);
                }
            }
        }
    }

    // Advice that destroys data asks even when $ConfirmPreference would not, unless -Confirm:$false.
    private bool ConfirmedDestructive(string target)
    {
        if (MyInvocation.BoundParameters.TryGetValue("Confirm", out object? confirm) && confirm is SwitchParameter { IsPresent: false })
        {
            return true;
        }

        return ShouldContinue($"{_advice} destroys the contents of the ranges of {target}. Continue?", "Destructive memory advice");
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private sealed record Batch(int ProcessId, ulong? StartTime, string? BootId, string? ReadOn, ulong? PidNamespace, AdvicePlan Plan)
    {
        public string? ExecutableId { get; init; }
    }
}
