"""What a test hands to pytest's junit writer directly, carried from a unit process to
the front end's writer: record_xml_attribute's attributes and
record_testsuite_property's properties (record_property travels on the report
already). In a unit process a JunitRecorder stands where the writer would be, so the
fixtures record (and warn about the junit family) as in a plain run."""


def xml_key(config):
    """pytest's stash key for its junit writer (a module attribute of the junitxml
    plugin; there is no public way to it). None when that plugin is not loaded."""
    plugin = config.pluginmanager.getplugin("junitxml")
    return getattr(plugin, "xml_key", None)


class _NodeAttributes:
    def __init__(self, attrs):
        self.attrs = attrs

    def add_attribute(self, name, value):
        self.attrs[str(name)] = str(value)


class JunitRecorder:
    """Takes the place of pytest's LogXML in a unit process: what the junit fixtures
    give it is kept until the test's last report carries it away."""

    def __init__(self, family):
        self.family = family
        self.attrs = {}  # nodeid -> {name: value}
        self.properties = []  # (name, value) for the test suite

    def node_reporter(self, report):
        nodeid = getattr(report, "nodeid", report)
        return _NodeAttributes(self.attrs.setdefault(nodeid, {}))

    def add_global_property(self, name, value):
        self.properties.append((str(name), str(value)))

    def take(self, nodeid):
        """(attributes, suite properties) recorded for nodeid since the last take."""
        attrs, props = self.attrs.pop(nodeid, {}), self.properties
        self.properties = []
        return attrs, props


def install(config, family):
    """Puts a JunitRecorder where the fixtures look for the junit writer; None when
    pytest's junitxml plugin is not there."""
    key = xml_key(config)
    if key is None:
        return None
    recorder = JunitRecorder(family)
    config.stash[key] = recorder
    return recorder


def writer(config):
    """The junit writer in config's stash (pytest's, in the front end), or None."""
    key = xml_key(config)
    return config.stash.get(key, None) if key is not None else None


def apply(xml, nodeid, attrs, props):
    """Gives the front end's junit writer xml what a unit process recorded for nodeid
    (before its teardown report is replayed, when the test's entry is written)."""
    reporter = xml.node_reporter(nodeid)
    for name, value in attrs.items():
        reporter.add_attribute(name, value)
    for name, value in props:
        xml.add_global_property(name, value)
