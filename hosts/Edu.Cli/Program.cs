using Edu.Cli;

return CliApp.Run(args);
