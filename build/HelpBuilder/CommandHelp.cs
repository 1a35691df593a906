using System.Collections.Generic;

namespace MadvPS.HelpBuilder;

/// <summary>One cmdlet's help as a PlatyPS schema 2.0.0 page states it.</summary>
internal sealed class CommandHelp
{
    public string Name { get; set; } = "";
    public string OnlineVersion { get; set; } = "";
    public List<string> Synopsis { get; } = new();
    public List<string> Description { get; } = new();
    /// <summary>Parameter sets in page order: name and the parameter names of its syntax block, in order.</summary>
    public List<SyntaxSet> Syntax { get; } = new();
    public List<ParameterHelp> Parameters { get; } = new();
    public List<TypeHelp> Inputs { get; } = new();
    public List<TypeHelp> Outputs { get; } = new();
    public List<string> Notes { get; } = new();
    public List<ExampleHelp> Examples { get; } = new();
    public List<LinkHelp> Links { get; } = new();
}

internal sealed record SyntaxSet(string Name, bool IsDefault, List<string> ParameterNames);

internal sealed class ParameterHelp
{
    public string Name { get; set; } = "";
    public List<string> Description { get; } = new();
    /// <summary>One per yaml block: PlatyPS writes one block per group of parameter sets that differ.</summary>
    public List<ParameterMetadata> Metadata { get; } = new();
}

internal sealed class ParameterMetadata
{
    public string Type { get; set; } = "";
    public List<string> ParameterSets { get; } = new();
    public List<string> Aliases { get; } = new();
    public List<string> AcceptedValues { get; } = new();
    public bool Required { get; set; }
    public string Position { get; set; } = "Named";
    public string DefaultValue { get; set; } = "None";
    public string PipelineInput { get; set; } = "False";
    public bool Wildcards { get; set; }

    public bool AppliesTo(string set) =>
        ParameterSets.Exists(s => s == "(All)" || s == "__AllParameterSets" || s == set);
}

internal sealed record TypeHelp(string TypeName, List<string> Description);

internal sealed record ExampleHelp(string Title, string Code, List<string> Remarks);

internal sealed record LinkHelp(string Text, string Uri);
