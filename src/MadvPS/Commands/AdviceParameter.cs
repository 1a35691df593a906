using System;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using MadvPS.Core;

namespace MadvPS.Commands;

/// <summary>
/// Lets a string -Advice take an advice by name (any case), as a <see cref="MemoryAdvice"/> value
/// or by its MADV number, and hands the cmdlet the enum's own name. -Advice is a string, not the
/// enum, because PowerShell 7.4 to 7.6 completes enum and ValidateSet parameters itself, in
/// alphabetical order and without descriptions, before it asks any [ArgumentCompleter]
/// (CompletionCompleters.ProcessParameter); a string lets AdviceCompleter order and describe them.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AdviceTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (TryParse(value, out MemoryAdvice advice))
        {
            return advice.ToString();
        }

        throw new ArgumentTransformationMetadataException(
            $"'{value}' is not a memory advice. Give one of: {string.Join(", ", Enum.GetNames<MemoryAdvice>())} (Get-MemoryAdviceSupport describes them).");
    }

    /// <summary>A name (any case), a MemoryAdvice, or a defined MADV number.</summary>
    internal static bool TryParse(object? value, out MemoryAdvice advice)
    {
        advice = default;
        switch (value)
        {
            case MemoryAdvice typed when Enum.IsDefined(typed):
                advice = typed;
                return true;
            case string text when text.Length > 0 && !char.IsDigit(text[0]) && text[0] != '-' && text[0] != '+':
                return Enum.TryParse(text.Trim(), ignoreCase: true, out advice) && Enum.IsDefined(advice);
            case string number when int.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n):
                return TryParse(n, out advice);
            case sbyte or byte or short or ushort or int or uint or long:
                long madv = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                if (madv is >= int.MinValue and <= int.MaxValue && Enum.IsDefined((MemoryAdvice)(int)madv))
                {
                    advice = (MemoryAdvice)(int)madv;
                    return true;
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>The advice a transformed -Advice names.</summary>
    internal static MemoryAdvice Parse(string name) => Enum.Parse<MemoryAdvice>(name, ignoreCase: true);
}

/// <summary>Refuses, at binding, advice that process_madvise never takes for another process.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateOtherProcessAdviceAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        object? value = arguments is PSObject wrapped ? wrapped.BaseObject : arguments;
        if (!AdviceTransformationAttribute.TryParse(value, out MemoryAdvice advice) || AdviceFacts.Of(advice).RemoteSince is null)
        {
            string allowed = string.Join(", ", AdviceFacts.All.Where(f => f.RemoteSince is not null).Select(f => f.Advice.ToString()));
            throw new ValidationMetadataException(
                $"process_madvise never takes '{value}' for another process. Give one of: {allowed}; or use Invoke-MemoryAdvice on the calling process.");
        }
    }
}
