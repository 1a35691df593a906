using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Markdig;
using Markdig.Syntax;

namespace MadvPS.HelpBuilder;

/// <summary>A page broken into its front matter and its headings, before any meaning is given to them.</summary>
internal sealed class MarkdownPage
{
    private static readonly MarkdownPipeline s_pipeline = new MarkdownPipelineBuilder().UsePipeTables().Build();

    public string Path { get; }
    public string Source { get; }
    public Dictionary<string, string> FrontMatter { get; } = new(StringComparer.OrdinalIgnoreCase);
    public string Title { get; private set; } = "";
    public List<Section> Sections { get; } = new();

    private MarkdownPage(string path, string text)
    {
        Path = path;
        text = text.Replace("\r\n", "\n");
        Match front = Regex.Match(text, @"\A---\n(.*?)\n---\n", RegexOptions.Singleline);
        if (front.Success)
        {
            foreach (string line in front.Groups[1].Value.Split('\n'))
            {
                int colon = line.IndexOf(':');
                if (colon > 0)
                {
                    FrontMatter[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
            }

            // Keep offsets of the body valid for the blocks' spans.
            text = new string('\n', front.Length) + text[front.Length..];
        }

        Source = text;
        MarkdownDocument document = Markdown.Parse(text, s_pipeline);
        Section? section = null;
        Subsection? subsection = null;
        foreach (Block block in document)
        {
            if (block is HeadingBlock { Level: 1 } h1 && Title.Length == 0)
            {
                Title = MarkdownText.Inline(h1.Inline);
            }
            else if (block is HeadingBlock { Level: 2 } h2)
            {
                section = new Section(MarkdownText.Inline(h2.Inline));
                Sections.Add(section);
                subsection = null;
            }
            else if (block is HeadingBlock { Level: 3 } h3 && section is not null)
            {
                subsection = new Subsection(MarkdownText.Inline(h3.Inline));
                section.Subsections.Add(subsection);
            }
            else if (subsection is not null)
            {
                subsection.Blocks.Add(block);
            }
            else if (section is not null)
            {
                section.Blocks.Add(block);
            }
            else if (block is HeadingBlock { Level: 1 })
            {
                throw new HelpFormatException(path, "has more than one '# ' heading: a page describes one cmdlet or topic.");
            }
        }
    }

    public static MarkdownPage Load(string path) => new(path, System.IO.File.ReadAllText(path));

    public Section? Find(string name) => Sections.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    public List<string> Paragraphs(IEnumerable<Block> blocks) => blocks.SelectMany(b => MarkdownText.Paragraphs(b, Source)).Where(p => p.Length > 0).ToList();
}

internal sealed record Section(string Name)
{
    public List<Block> Blocks { get; } = new();
    public List<Subsection> Subsections { get; } = new();
}

internal sealed record Subsection(string Name)
{
    public List<Block> Blocks { get; } = new();
}

internal sealed class HelpFormatException : Exception
{
    public HelpFormatException(string path, string message) : base($"{path} {message}") { }
}

/// <summary>Reads a cmdlet page of PlatyPS schema 2.0.0 into a <see cref="CommandHelp"/>.</summary>
internal static class MarkdownReader
{
    private static readonly string[] s_sections = { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };

    public static bool IsCommandPage(MarkdownPage page) => page.FrontMatter.ContainsKey("external help file");

    public static CommandHelp Read(MarkdownPage page)
    {
        string path = page.Path;
        if (page.FrontMatter.TryGetValue("schema", out string? schema) && schema != "2.0.0")
        {
            throw new HelpFormatException(path, $"says schema {schema}; this builder reads PlatyPS schema 2.0.0.");
        }

        var help = new CommandHelp { Name = page.Title, OnlineVersion = page.FrontMatter.GetValueOrDefault("online version") ?? "" };
        if (help.Name.Length == 0)
        {
            throw new HelpFormatException(path, "has no '# Verb-Noun' heading.");
        }

        for (int i = 0; i < page.Sections.Count; i++)
        {
            int expected = Array.IndexOf(s_sections, page.Sections[i].Name.ToUpperInvariant());
            if (expected < 0)
            {
                throw new HelpFormatException(path, $"has a section '## {page.Sections[i].Name}' that PlatyPS schema 2.0.0 does not know; the sections are {string.Join(", ", s_sections)}.");
            }
        }

        foreach (string required in new[] { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS" })
        {
            if (page.Find(required) is null)
            {
                throw new HelpFormatException(path, $"has no '## {required}' section.");
            }
        }

        help.Synopsis.AddRange(page.Paragraphs(page.Find("SYNOPSIS")!.Blocks));
        help.Description.AddRange(page.Paragraphs(page.Find("DESCRIPTION")!.Blocks));
        ReadSyntax(page, help);
        ReadExamples(page, help);
        ReadParameters(page, help);
        help.Inputs.AddRange(Types(page, page.Find("INPUTS")!));
        help.Outputs.AddRange(Types(page, page.Find("OUTPUTS")!));
        if (page.Find("NOTES") is Section notes)
        {
            help.Notes.AddRange(page.Paragraphs(notes.Blocks.Concat(notes.Subsections.SelectMany(s => s.Blocks))));
        }

        if (help.OnlineVersion.Length > 0)
        {
            help.Links.Add(new LinkHelp("Online Version:", help.OnlineVersion));
        }

        if (page.Find("RELATED LINKS") is Section links)
        {
            foreach (Block block in links.Blocks)
            {
                foreach ((string text, string url) in MarkdownText.Links(block))
                {
                    help.Links.Add(new LinkHelp(text, MarkdownText.IsExternal(url) ? url : ""));
                }
            }
        }

        return help;
    }

    private static void ReadSyntax(MarkdownPage page, CommandHelp help)
    {
        foreach (Subsection set in page.Find("SYNTAX")!.Subsections)
        {
            Match name = Regex.Match(set.Name, @"^(\S+)(\s+\(Default\))?$");
            var code = set.Blocks.OfType<FencedCodeBlock>().FirstOrDefault()
                ?? throw new HelpFormatException(page.Path, $"has no code block under '### {set.Name}' in SYNTAX.");
            var names = Regex.Matches(MarkdownText.Code(code), @"(?<![\w<-])-([A-Za-z][\w]*)").Select(m => m.Groups[1].Value).ToList();
            help.Syntax.Add(new SyntaxSet(name.Groups[1].Value, name.Groups[2].Success, names));
        }

        if (help.Syntax.Count == 0)
        {
            throw new HelpFormatException(page.Path, "has no '### SetName' with a code block under SYNTAX.");
        }
    }

    private static void ReadExamples(MarkdownPage page, CommandHelp help)
    {
        foreach (Subsection example in page.Find("EXAMPLES")!.Subsections)
        {
            var code = example.Blocks.OfType<FencedCodeBlock>().Select(MarkdownText.Code).ToList();
            if (code.Count == 0)
            {
                throw new HelpFormatException(page.Path, $"has no code block in '### {example.Name}'.");
            }

            var remarks = page.Paragraphs(example.Blocks.Where(b => b is not FencedCodeBlock));
            // An empty paragraph last, as PlatyPS writes, so Get-Help leaves a line before the next example.
            remarks.Add("");
            help.Examples.Add(new ExampleHelp($"---------- {example.Name} ----------", string.Join("\n\n", code), remarks));
        }
    }

    private static void ReadParameters(MarkdownPage page, CommandHelp help)
    {
        foreach (Subsection section in page.Find("PARAMETERS")!.Subsections)
        {
            if (section.Name == "CommonParameters")
            {
                continue;
            }

            if (!section.Name.StartsWith('-'))
            {
                throw new HelpFormatException(page.Path, $"has '### {section.Name}' under PARAMETERS; a parameter's heading is '### -Name'.");
            }

            var parameter = new ParameterHelp { Name = section.Name[1..] };
            parameter.Description.AddRange(page.Paragraphs(section.Blocks.Where(b => !IsYaml(b))));
            foreach (FencedCodeBlock yaml in section.Blocks.OfType<FencedCodeBlock>().Where(IsYaml))
            {
                parameter.Metadata.Add(ReadYaml(page.Path, parameter.Name, MarkdownText.Code(yaml)));
            }

            if (parameter.Metadata.Count == 0)
            {
                throw new HelpFormatException(page.Path, $"has no ```yaml block for parameter -{parameter.Name}.");
            }

            help.Parameters.Add(parameter);
        }
    }

    private static bool IsYaml(Block block) => block is FencedCodeBlock { Info: "yaml" };

    private static ParameterMetadata ReadYaml(string path, string parameter, string yaml)
    {
        var metadata = new ParameterMetadata();
        foreach (string line in yaml.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }

            string key = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "Type": metadata.Type = value; break;
                case "Parameter Sets": metadata.ParameterSets.AddRange(List(value)); break;
                case "Aliases": metadata.Aliases.AddRange(List(value)); break;
                case "Accepted values": metadata.AcceptedValues.AddRange(List(value)); break;
                case "Required": metadata.Required = Bool(value); break;
                case "Position": metadata.Position = value; break;
                case "Default value": metadata.DefaultValue = value; break;
                case "Accept pipeline input": metadata.PipelineInput = value; break;
                case "Accept wildcard characters": metadata.Wildcards = Bool(value); break;
                default: throw new HelpFormatException(path, $"has an unknown key '{key}' in the yaml of -{parameter}.");
            }

            bool Bool(string v) => v.Equals("True", StringComparison.OrdinalIgnoreCase) ? true
                : v.Equals("False", StringComparison.OrdinalIgnoreCase) ? false
                : throw new HelpFormatException(path, $"has '{key}: {v}' for -{parameter}; write True or False.");
        }

        if (metadata.Type.Length == 0 || metadata.ParameterSets.Count == 0)
        {
            throw new HelpFormatException(path, $"has a yaml block for -{parameter} without Type or Parameter Sets.");
        }

        return metadata;
    }

    private static IEnumerable<string> List(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(v => v != "None");

    private static IEnumerable<TypeHelp> Types(MarkdownPage page, Section section)
    {
        foreach (Subsection type in section.Subsections)
        {
            yield return new TypeHelp(type.Name, page.Paragraphs(type.Blocks));
        }
    }
}
