using System;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Lets a TimeSpan parameter take 10s, 500ms, 2m, 1h, a number of seconds, or a TimeSpan.
/// PowerShell alone would reject "10s" and read a bare 10 as ten ticks.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        switch (value)
        {
            case TimeSpan span:
                return span;
            case string text when Duration.TryParse(text, out TimeSpan parsed):
                return parsed;
            case sbyte or byte or short or ushort or int or uint or long or ulong or float or double or decimal
                when Duration.TryFromSeconds(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), out TimeSpan seconds):
                return seconds;
        }

        throw new ArgumentTransformationMetadataException($"'{value}' is not a duration. Give {Duration.Forms}.");
    }
}
