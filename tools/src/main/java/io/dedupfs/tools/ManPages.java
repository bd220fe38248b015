package io.dedupfs.tools;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Section 1 man pages (troff) for a command and each of its visible subcommands, written from
 * their picocli definitions, so they say what {@code --help} says. One page per command, named as
 * git names them: {@code dedupfs-snapshot-create.1}. (picocli-codegen's ManPageGenerator writes
 * AsciiDoc, which needs asciidoctor to become troff.)
 */
final class ManPages {
  private ManPages() {}

  /** File name → page, for {@code root} and every command under it but hidden ones and {@code help}. */
  static Map<String, String> of(CommandLine root) {
    Map<String, String> pages = new LinkedHashMap<>();
    add(root, root.getCommandSpec().version(), pages);
    return pages;
  }

  private static void add(CommandLine command, String[] version, Map<String, String> pages) {
    pages.put(pageName(command.getCommandSpec()) + ".1", page(command, version));
    for (CommandLine sub : visibleSubcommands(command.getCommandSpec())) {
      add(sub, version, pages);
    }
  }

  private static List<CommandLine> visibleSubcommands(CommandSpec spec) {
    List<CommandLine> visible = new ArrayList<>();
    for (CommandLine sub : spec.subcommands().values()) {
      CommandSpec s = sub.getCommandSpec();
      if (!s.usageMessage().hidden() && !(s.userObject() instanceof CommandLine.HelpCommand) && !visible.contains(sub)) {
        visible.add(sub);
      }
    }
    return visible;
  }

  private static String pageName(CommandSpec spec) {
    return spec.qualifiedName("-");
  }

  private static String page(CommandLine command, String[] version) {
    CommandSpec spec = command.getCommandSpec();
    String[] description = spec.usageMessage().description();
    StringBuilder man = new StringBuilder();
    man.append(".TH ").append(quotedArgument(pageName(spec).toUpperCase())).append(" 1 \"\" ")
        .append(quotedArgument(version.length > 0 ? version[0] : "dedupfs")).append(" \"dedupfs manual\"\n");
    man.append(".SH NAME\n").append(text(pageName(spec))).append(" \\- ")
        .append(text(description.length > 0 ? description[0] : "")).append('\n');
    man.append(".SH SYNOPSIS\n.nf\n")
        .append(text(new Help(spec, Help.defaultColorScheme(Help.Ansi.OFF)).synopsis(0).stripTrailing()))
        .append("\n.fi\n");
    if (description.length > 1) {
      man.append(".SH DESCRIPTION\n");
      // The first line alone may end mid-sentence: here the whole description.
      for (String line : description) {
        man.append(text(line)).append('\n');
      }
    }
    List<PositionalParamSpec> positionals = spec.positionalParameters().stream().filter(p -> !p.hidden()).toList();
    if (!positionals.isEmpty()) {
      man.append(".SH ARGUMENTS\n");
      for (PositionalParamSpec p : positionals) {
        item(man, "\\fI" + text(p.paramLabel()) + "\\fR", p.description());
      }
    }
    List<OptionSpec> options = spec.options().stream().filter(o -> !o.hidden()).toList();
    if (!options.isEmpty()) {
      man.append(".SH OPTIONS\n");
      for (OptionSpec o : options) {
        item(man, optionHeading(o), o.description());
      }
    }
    List<CommandLine> subcommands = visibleSubcommands(spec);
    if (!subcommands.isEmpty()) {
      man.append(".SH COMMANDS\n");
      for (CommandLine sub : subcommands) {
        item(man, "\\fB" + text(sub.getCommandName()) + "\\fR", sub.getCommandSpec().usageMessage().description());
      }
      man.append(".SH SEE ALSO\n");
      List<String> references = subcommands.stream().map(s -> "\\fB" + text(pageName(s.getCommandSpec())) + "\\fR(1)").toList();
      man.append(String.join(",\n", references)).append('\n');
    } else if (spec.parent() != null) {
      man.append(".SH SEE ALSO\n\\fB").append(text(pageName(spec.root()))).append("\\fR(1)\n");
    }
    return man.toString();
  }

  private static String optionHeading(OptionSpec o) {
    List<String> names = new ArrayList<>();
    for (String name : o.names()) {
      names.add("\\fB" + text(name) + "\\fR");
    }
    String heading = String.join(", ", names);
    return o.typeInfo().isBoolean() ? heading : heading + " \\fI" + text(o.paramLabel()) + "\\fR";
  }

  private static void item(StringBuilder man, String heading, String[] description) {
    man.append(".TP\n").append(heading).append('\n');
    for (String line : description) {
      man.append(text(line)).append('\n');
    }
  }

  /** Text troff prints as it is: backslashes and hyphens escaped, a leading dot or quote made plain. */
  private static String text(String s) {
    StringBuilder out = new StringBuilder();
    for (String line : s.split("\n", -1)) {
      String escaped = line.replace("\\", "\\e").replace("-", "\\-");
      if (escaped.startsWith(".") || escaped.startsWith("'")) {
        escaped = "\\&" + escaped;
      }
      if (out.length() > 0) {
        out.append('\n');
      }
      out.append(escaped);
    }
    return out.toString();
  }

  /** An argument of a troff request, in double quotes (which it may not hold). */
  private static String quotedArgument(String s) {
    return "\"" + text(s).replace("\"", "'") + "\"";
  }
}
