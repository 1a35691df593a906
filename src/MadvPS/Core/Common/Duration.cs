using System;
using System.Globalization;

namespace MadvPS.Core;

/// <summary>Durations as operators write them: 500ms, 10s, 1.5m, 2h, a bare number of seconds, or a TimeSpan (00:00:10).</summary>
internal static class Duration
{
    public const string Forms = "a TimeSpan, a number of seconds, or a number followed by ms, s, m or h (500ms, 10s, 1.5m, 2h)";

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (text is null)
        {
            return false;
        }

        string s = text.Trim();
        if (s.Length == 0)
        {
            return false;
        }

        if (s.Contains(':'))
        {
            return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out duration);
        }

        int unitStart = s.Length;
        while (unitStart > 0 && char.IsAsciiLetter(s[unitStart - 1]))
        {
            unitStart--;
        }

        string unit = s.Substring(unitStart).ToLowerInvariant();
        string number = s.Substring(0, unitStart).TrimEnd();
        double scale = unit switch
        {
            "" or "s" or "sec" => 1,
            "ms" => 0.001,
            "m" or "min" => 60,
            "h" => 3600,
            _ => double.NaN,
        };
        if (double.IsNaN(scale) ||
            !double.TryParse(number, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
        {
            return false;
        }

        return TryFromSeconds(value * scale, out duration);
    }

    /// <summary>A number of seconds as a TimeSpan; false for NaN, infinities and values a TimeSpan cannot hold.</summary>
    public static bool TryFromSeconds(double seconds, out TimeSpan duration)
    {
        duration = default;
        if (double.IsNaN(seconds) || Math.Abs(seconds) >= TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
        return true;
    }
}
