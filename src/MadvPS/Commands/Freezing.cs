using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>What the advice cmdlets' -Freeze shares: -WhatIf never freezes, and a freeze that did not hold is said.</summary>
internal static class Freezing
{
    /// <summary>-FreezeTimeout must be positive, and at most an hour: a freeze is meant to be short.</summary>
    public static void ValidateTimeout(PSCmdlet cmdlet, System.TimeSpan timeout)
    {
        if (timeout <= System.TimeSpan.Zero || timeout > System.TimeSpan.FromHours(1))
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(
                new System.ArgumentOutOfRangeException(nameof(timeout), $"-FreezeTimeout must be more than 0 and at most 1h; it is {timeout}."),
                "FreezeTimeoutOutOfRange", ErrorCategory.InvalidArgument, timeout));
        }
    }

    /// <summary>True under -WhatIf, given or from $WhatIfPreference.</summary>
    public static bool IsWhatIf(PSCmdlet cmdlet)
    {
        if (cmdlet.MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? value))
        {
            return value is SwitchParameter { IsPresent: true } or true;
        }

        return LanguagePrimitives.IsTrue(cmdlet.SessionState.PSVariable.GetValue("WhatIfPreference"));
    }

    /// <summary>
    /// A warning when -Freeze did not stop every thread. The advice goes ahead, checked against the
    /// live mappings; -WarningAction Stop makes the cmdlet stop instead (and resume the process).
    /// </summary>
    public static void WarnIfNotFrozen(PSCmdlet cmdlet, FreezeOutcome? outcome, int processId, string name)
    {
        if (outcome is null || outcome.Frozen)
        {
            return;
        }

        if (outcome.IsSelf)
        {
            cmdlet.WriteWarning($"-Freeze does not stop the calling process ({processId}, {name}); its ranges are advised while it runs.");
            return;
        }

        string state = outcome.RunningThreadState switch
        {
            'D' => "D, uninterruptible: a process waiting in vfork for its child does not stop until the child execs or exits",
            'R' => "R, running",
            'S' => "S, sleeping",
            char c => c.ToString(),
            null => "unknown",
        };
        cmdlet.WriteWarning($"-Freeze did not stop every thread of process {processId} ({name}): thread {outcome.RunningThread} is in state {state}. Frozen is false; the advice goes ahead while that thread may still change the mappings. Add -WarningAction Stop to stop instead.");
    }
}
