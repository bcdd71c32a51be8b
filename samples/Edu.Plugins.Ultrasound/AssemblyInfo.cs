using Edu.Abstractions.Plugins;

// The contract version this plugin was compiled against (the constant is copied in at compile time);
// a host with another version reports the plugin as incompatible instead of loading it.
[assembly: EduPluginContract(PluginContract.Version)]
