using System;
using System.Globalization;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// The bound on memory brought in on purpose (WillNeed on files and memory, PopulateRead): at
/// most a share of MemAvailable, $MadvPSReadLimitPercent (50 unless set), without -Force; above it
/// with -Force, only after a confirmation (which -Confirm:$false answers).
/// </summary>
internal static class ReadLimit
{
    public const string PreferenceVariable = "MadvPSReadLimitPercent";
    public const double DefaultPercent = 50;

    public static double Percent(PSCmdlet cmdlet)
    {
        object? value = cmdlet.SessionState.PSVariable.GetValue(PreferenceVariable);
        if (value is PSObject wrapped)
        {
            value = wrapped.BaseObject;
        }

        return value is not null
            && double.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out double percent)
            && percent > 0
            ? percent
            : DefaultPercent;
    }

    /// <summary>
    /// Whether <paramref name="bytes"/> may be brought in: yes under the limit; above it an error
    /// (nothing read) without <paramref name="force"/>, else the user's confirmation.
    /// </summary>
    public static bool Allows(PSCmdlet cmdlet, bool force, long bytes, string what, object target)
    {
        double percent = Percent(cmdlet);
        long available = KernelInfo.MemAvailable;
        long limit = (long)(available * percent / 100);
        if (bytes <= limit)
        {
            return true;
        }

        string over = $"{what} would bring up to {Display.Bytes(bytes)} into memory, more than {percent.ToString("0.###", CultureInfo.InvariantCulture)}% of MemAvailable ({Display.Bytes(limit)} of {Display.Bytes(available)}); it could push other files out of the page cache and other processes' memory out to swap.";
        if (!force)
        {
            cmdlet.WriteError(new ErrorRecord(
                new InvalidOperationException($"{over} Nothing was read. Add -Force to read it anyway (you are asked to confirm), advise a smaller part, or set ${PreferenceVariable} to another share."),
                "ReadExceedsMemoryLimit", ErrorCategory.LimitsExceeded, target));
            return false;
        }

        if (cmdlet.MyInvocation.BoundParameters.TryGetValue("Confirm", out object? confirm) && confirm is SwitchParameter { IsPresent: false })
        {
            return true;
        }

        return cmdlet.ShouldContinue($"{over} Continue?", "Reading more than the memory limit");
    }
}
