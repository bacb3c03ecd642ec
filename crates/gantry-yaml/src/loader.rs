//! Turns parser events into typed nodes (anchors, aliases, merge keys, tags).
//!
//! The tree is built without recursion: open sequences and mappings live on an explicit stack,
//! so hostile nesting cannot overflow the thread's stack. Like GitLab, a document nested deeper
//! than [`MAX_DEPTH`] collections (aliases included) is refused, and so is a document whose
//! aliases expand to more than [`MAX_NODES`] nodes (a "billion laughs" file).

use std::sync::Arc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span as ParserSpan, Tag};

use crate::libyaml_rules::{LibyamlRules, Violation, unprintable};
use crate::map_builder::MapBuilder;
use crate::recovery::{MAX_RETRIES, rewrite};
use crate::split::{Piece, split_documents};
use crate::syntax_error::syntax_message;
use crate::tags::{
    CORE_STR, MapKind, REFERENCE, SeqKind, full_tag, mapping_kind, scalar_value, sequence_kind,
};
use crate::typing::ScalarError;
use crate::{Mapping, Node, SourceFile, Span, Value, YamlError};

/// GitLab's `MAX_YAML_DEPTH`: collections nested deeper than this are refused.
pub(crate) const MAX_DEPTH: usize = 100;
/// The most nodes a document may expand to once aliases are copied.
pub(crate) const MAX_NODES: usize = 1_000_000;
/// GitLab's message for documents over its depth or size limits.
const TOO_BIG: &str = "The parsed YAML is too big";

/// Loads the whole file as one YAML document (the first one when the text holds several).
#[allow(clippy::needless_pass_by_value)] // The owned `Arc` is the crate's public signature.
pub fn load_document(file: Arc<SourceFile>) -> Result<Node, YamlError> {
    let text = strip_bom(&file.text);
    let piece = Piece {
        text,
        line: 1,
        column: 0,
    };
    load_piece(&file, piece)
}

/// Loads a file the way GitLab does: the text is split on lines that begin with `---`, empty
/// pieces are dropped, and each piece is loaded as one document.
#[allow(clippy::needless_pass_by_value)] // The owned `Arc` is the crate's public signature.
pub fn load_stream(file: Arc<SourceFile>) -> Result<Vec<Node>, YamlError> {
    let text = strip_bom(&file.text);
    split_documents(text)
        .into_iter()
        .map(|piece| load_piece(&file, piece))
        .collect()
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Loads one piece, retrying with rewritten text when saphyr stops where libyaml would not
/// (see the `recovery` module).
fn load_piece(file: &Arc<SourceFile>, piece: Piece<'_>) -> Result<Node, YamlError> {
    let mut rewritten: Option<String> = None;
    let mut retries = 0;
    loop {
        let text = rewritten.as_deref().unwrap_or(piece.text);
        let mut builder = Builder::new(file, Piece { text, ..piece });
        let error = match builder.run() {
            Ok(node) => return Ok(node),
            Err(Failure::Yaml(e)) => return Err(e),
            Err(Failure::Scan(e)) => e,
        };
        let fixed = if retries < MAX_RETRIES {
            rewrite(text, &error)
        } else {
            None
        };
        let Some(fixed) = fixed else {
            return Err(builder.scan_error(&error));
        };
        retries += 1;
        rewritten = Some(fixed);
    }
}

/// Why building stopped: a parser error (which may be recoverable) or a final error.
enum Failure {
    Scan(ScanError),
    Yaml(YamlError),
}

impl From<YamlError> for Failure {
    fn from(e: YamlError) -> Self {
        Failure::Yaml(e)
    }
}

/// The syntactic kind of a node, which decides how a merge key treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    Sequence,
    Mapping,
    Alias,
}

/// A finished node with what its parent needs to know about it.
#[derive(Debug, Clone)]
struct Built {
    node: Node,
    kind: Kind,
    /// Collections nested inside (0 for a scalar).
    height: usize,
    /// Nodes in the subtree, itself included.
    count: usize,
    /// Tagged `!!str`, which stops a `<<` key from merging.
    str_tagged: bool,
}

enum Body {
    Seq {
        kind: SeqKind,
        items: Vec<Node>,
    },
    Map {
        kind: MapKind,
        map: MapBuilder,
        key: Option<Built>,
    },
}

/// An open collection.
struct Frame {
    span: Span,
    start: Marker,
    /// Inside a flow collection (`[...]`, `{...}`).
    flow: bool,
    anchor: usize,
    reference: bool,
    str_tagged: bool,
    height: usize,
    count: usize,
    body: Body,
}

enum Anchor {
    /// The anchored collection is still open at this stack index.
    Open(usize),
    Done(Built),
}

struct Builder<'a> {
    file: &'a Arc<SourceFile>,
    piece: Piece<'a>,
    rules: LibyamlRules<'a>,
    stack: Vec<Frame>,
    /// Indexed by the parser's anchor id (ids start at 1).
    anchors: Vec<Option<Anchor>>,
    nodes: usize,
    root: Option<Node>,
}

impl<'a> Builder<'a> {
    fn new(file: &'a Arc<SourceFile>, piece: Piece<'a>) -> Self {
        Self {
            file,
            piece,
            rules: LibyamlRules::new(piece.text),
            stack: Vec::new(),
            anchors: Vec::new(),
            nodes: 0,
            root: None,
        }
    }

    fn run(&mut self) -> Result<Node, Failure> {
        if let Some((marker, message)) = unprintable(self.piece.text) {
            return Err(self.error(message, marker).into());
        }
        let mut parser = Parser::new_from_str(self.piece.text);
        let mut in_document = false;
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(Failure::Scan)?;
            let start = span.start;
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => in_document = true,
                Event::DocumentEnd => {
                    if in_document {
                        break;
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    self.check_node(anchor, span)?;
                    if self.in_flow() {
                        let decorated = anchor > 0 || tag.is_some();
                        let checked = self.rules.flow_scalar(&value, style, decorated, span);
                        self.check(checked)?;
                    }
                    if style != ScalarStyle::Plain {
                        self.rules.protect(span.start, span.end);
                    }
                    self.scalar(&value, style, anchor, tag.as_deref(), start)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.check_node(anchor, span)?;
                    self.open(anchor, tag.as_deref(), span, true)?;
                }
                Event::MappingStart(anchor, tag) => {
                    self.check_node(anchor, span)?;
                    self.open(anchor, tag.as_deref(), span, false)?;
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
                Event::Alias(id) => {
                    self.check_node(0, span)?;
                    let checked = self.rules.alias(start);
                    self.check(checked)?;
                    self.alias(id, start)?;
                }
            }
        }
        let root = self
            .root
            .take()
            .unwrap_or_else(|| Node::new(Value::Null, self.span_at(1, 0)));
        if matches!(root.value, Value::Seq(_) | Value::Map(_)) {
            let checked = self.rules.tab_lines();
            self.check(checked)?;
        }
        Ok(root)
    }

    /// The file position of a parser marker (parser lines are 1-based, columns 0-based).
    fn span_at(&self, line: usize, col: usize) -> Span {
        let line_in_piece = u32::try_from(line).unwrap_or(u32::MAX).max(1);
        let mut column = u32::try_from(col).unwrap_or(u32::MAX);
        if line_in_piece == 1 {
            column = column.saturating_add(self.piece.column);
        }
        Span::new(
            Arc::clone(self.file),
            self.piece.line.saturating_add(line_in_piece - 1),
            column.saturating_add(1),
        )
    }

    fn span(&self, marker: Marker) -> Span {
        self.span_at(marker.line(), marker.col())
    }

    fn error(&self, message: impl Into<String>, marker: Marker) -> YamlError {
        YamlError {
            message: message.into(),
            span: self.span(marker),
        }
    }

    fn scan_error(&self, e: &ScanError) -> YamlError {
        let marker = *e.marker();
        if e.info() == "while parsing node, found unknown anchor" {
            let name = self.name_at(marker);
            return self.error(format!("Unknown alias: {name}"), marker);
        }
        // Inside an unclosed flow collection, Psych names the collection and points at its
        // opening bracket.
        if let Some(frame) = self.stack.last().filter(|f| f.flow) {
            let message = syntax_message(e.info());
            let flow_message = if message.contains("while parsing a flow") {
                Some(message)
            } else if e.info() == "invalid indentation" {
                Some(match frame.body {
                    Body::Seq { .. } => {
                        "did not find expected ',' or ']' while parsing a flow sequence".to_owned()
                    }
                    Body::Map { .. } => {
                        "did not find expected ',' or '}' while parsing a flow mapping".to_owned()
                    }
                })
            } else {
                None
            };
            if let Some(message) = flow_message {
                return YamlError {
                    message,
                    span: frame.span.clone(),
                };
            }
        }
        self.error(syntax_message(e.info()), marker)
    }

    /// The anchor or alias name written at `marker` (after its `*` or `&`).
    fn name_at(&self, marker: Marker) -> String {
        let text = self.piece.text;
        let mut offset = 0;
        for _ in 1..marker.line() {
            match text[offset..].find('\n') {
                Some(n) => offset += n + 1,
                None => return String::new(),
            }
        }
        let rest = &text[offset..];
        let rest = match rest.char_indices().nth(marker.col()) {
            Some((i, _)) => &rest[i..],
            None => return String::new(),
        };
        rest.trim_start_matches(['*', '&'])
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
            .collect()
    }

    fn in_flow(&self) -> bool {
        self.stack.last().is_some_and(|f| f.flow)
    }

    fn check(&self, result: Result<(), Violation>) -> Result<(), YamlError> {
        result.map_err(|(marker, message)| self.error(message, marker))
    }

    /// Checks shared by every node: its anchor's name, and no tab after a block entry's `-`.
    fn check_node(&mut self, anchor: usize, span: ParserSpan) -> Result<(), YamlError> {
        if anchor > 0 {
            let checked = self.rules.anchor(span.start);
            self.check(checked)?;
        }
        let block_entry = self
            .stack
            .last()
            .is_some_and(|f| !f.flow && matches!(f.body, Body::Seq { .. }));
        if block_entry {
            let checked = self.rules.block_entry(span.start);
            self.check(checked)?;
        }
        Ok(())
    }

    fn scalar_failure(&self, e: &ScalarError, marker: Marker) -> YamlError {
        self.error(e.message(), marker)
    }

    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: Marker,
    ) -> Result<(), YamlError> {
        let tag = tag.map(|t| full_tag(&t.handle, &t.suffix));
        let reference = tag.as_deref() == Some(REFERENCE);
        let effective = if reference { None } else { tag.as_deref() };
        let plain = style == ScalarStyle::Plain;
        let typed =
            scalar_value(value, plain, effective).map_err(|e| self.scalar_failure(&e, start))?;
        let span = self.span(start);
        let mut node = Node::new(typed, span.clone());
        if reference {
            node = Node::new(Value::Reference(Box::new(node)), span);
        }
        let built = Built {
            node,
            kind: Kind::Scalar,
            height: 0,
            count: 1,
            str_tagged: tag.as_deref() == Some(CORE_STR),
        };
        self.count_nodes(1, start)?;
        if anchor > 0 {
            self.set_anchor(anchor, Anchor::Done(built.clone()));
        }
        self.finish(built);
        Ok(())
    }

    fn count_nodes(&mut self, n: usize, at: Marker) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(self.error(TOO_BIG, at));
        }
        Ok(())
    }

    fn set_anchor(&mut self, id: usize, anchor: Anchor) {
        if self.anchors.len() <= id {
            self.anchors.resize_with(id + 1, || None);
        }
        self.anchors[id] = Some(anchor);
    }

    fn open(
        &mut self,
        anchor: usize,
        tag: Option<&Tag>,
        span: ParserSpan,
        sequence: bool,
    ) -> Result<(), YamlError> {
        let start = span.start;
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(TOO_BIG, start));
        }
        let tag = tag.map(|t| full_tag(&t.handle, &t.suffix));
        let reference = tag.as_deref() == Some(REFERENCE);
        let effective = if reference { None } else { tag.as_deref() };
        let body = if sequence {
            let kind = match effective {
                Some(t) => sequence_kind(t).map_err(|e| self.scalar_failure(&e, start))?,
                None => SeqKind::Array,
            };
            Body::Seq {
                kind,
                items: Vec::new(),
            }
        } else {
            let kind = match effective {
                Some(t) => mapping_kind(t).map_err(|e| self.scalar_failure(&e, start))?,
                None => MapKind::Hash,
            };
            Body::Map {
                kind,
                map: MapBuilder::default(),
                key: None,
            }
        };
        self.count_nodes(1, start)?;
        if anchor > 0 {
            self.set_anchor(anchor, Anchor::Open(self.stack.len()));
        }
        let flow = self.in_flow() || self.rules.opens_flow(span);
        self.stack.push(Frame {
            span: self.span(start),
            start,
            flow,
            anchor,
            reference,
            str_tagged: tag.as_deref() == Some(CORE_STR),
            height: 0,
            count: 1,
            body,
        });
        Ok(())
    }

    fn close(&mut self, end: ParserSpan) -> Result<(), YamlError> {
        let at = end.start;
        let Some(frame) = self.stack.pop() else {
            return Err(self.error("unexpected end of a collection", at));
        };
        if frame.flow && !self.in_flow() {
            self.rules.protect(frame.start, end.end);
        }
        let (value, kind) = match frame.body {
            Body::Seq { kind, items } => match kind {
                SeqKind::Array => (Value::Seq(items), Kind::Sequence),
                SeqKind::Omap => (omap(items).map_err(|m| self.error(m, at))?, Kind::Sequence),
            },
            Body::Map { kind, map, key } => {
                if key.is_some() {
                    return Err(self.error("a mapping key has no value", at));
                }
                let mapping = map.into_mapping();
                match kind {
                    MapKind::Hash => (Value::Map(mapping), Kind::Mapping),
                    MapKind::StrObject => (
                        str_object(&mapping).map_err(|m| self.error(m, at))?,
                        Kind::Mapping,
                    ),
                }
            }
        };
        let mut node = Node::new(value, frame.span.clone());
        if frame.reference {
            node = Node::new(Value::Reference(Box::new(node)), frame.span);
        }
        let built = Built {
            node,
            kind,
            height: frame.height + 1,
            count: frame.count,
            str_tagged: frame.str_tagged,
        };
        if frame.anchor > 0 {
            self.set_anchor(frame.anchor, Anchor::Done(built.clone()));
        }
        self.finish(built);
        Ok(())
    }

    fn alias(&mut self, id: usize, at: Marker) -> Result<(), YamlError> {
        let span = self.span(at);
        let target = match self.anchors.get(id).and_then(Option::as_ref) {
            None => {
                let name = self.name_at(at);
                return Err(self.error(format!("Unknown alias: {name}"), at));
            }
            Some(Anchor::Done(built)) => {
                let mut built = built.clone();
                built.node.span = span;
                built
            }
            Some(Anchor::Open(index)) => {
                // Psych shares the object being built: merging it is merging what it holds so
                // far; any other use makes a recursive structure, which GitLab cannot accept.
                let index = *index;
                if let (Body::Map { map, .. }, true) =
                    (&self.stack[index].body, self.in_merge_position())
                {
                    Built {
                        node: Node::new(Value::Map(map.snapshot()), span),
                        kind: Kind::Alias,
                        height: 1,
                        count: 1,
                        str_tagged: false,
                    }
                } else {
                    let name = self.name_at(at);
                    return Err(self.error(
                        format!("{TOO_BIG}: alias *{name} refers to a node that contains it"),
                        at,
                    ));
                }
            }
        };
        if self.stack.len() + target.height > MAX_DEPTH {
            return Err(self.error(TOO_BIG, at));
        }
        self.count_nodes(target.count, at)?;
        let built = Built {
            kind: Kind::Alias,
            ..target
        };
        self.finish(built);
        Ok(())
    }

    /// Whether the next node is the value of a merge key, or an element of such a value.
    fn in_merge_position(&self) -> bool {
        let pending_merge = |frame: &Frame| matches!(&frame.body, Body::Map { key: Some(k), .. } if is_merge_key(k));
        match self.stack.as_slice() {
            [.., parent, top] if matches!(top.body, Body::Seq { .. }) => pending_merge(parent),
            [.., top] => pending_merge(top),
            [] => false,
        }
    }

    /// Hands a finished node to the open collection, or makes it the document's root.
    fn finish(&mut self, built: Built) {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return;
        };
        frame.height = frame.height.max(built.height);
        frame.count = frame.count.saturating_add(built.count);
        match &mut frame.body {
            Body::Seq { items, .. } => items.push(built.node),
            Body::Map { map, key, .. } => match key.take() {
                None => *key = Some(built),
                Some(k) => {
                    if is_merge_key(&k) {
                        merge(map, k, built);
                    } else {
                        map.insert(k.node, built.node);
                    }
                }
            },
        }
    }
}

/// A plain `<<` key: its typed value is the string `<<` and it is not tagged `!!str`.
fn is_merge_key(key: &Built) -> bool {
    !key.str_tagged && matches!(&key.node.value, Value::Str(s) if s == "<<")
}

/// Psych's merge: a mapping (or alias of one) is merged in, keys already present taking its
/// values; a sequence of mappings is merged with its earlier entries winning; anything else is
/// kept as an ordinary `<<` entry.
fn merge(map: &mut MapBuilder, key: Built, value: Built) {
    match (value.kind, value.node.value) {
        (Kind::Mapping | Kind::Alias, Value::Map(source)) => {
            for (k, v) in source.entries {
                map.insert(k, v);
            }
        }
        (Kind::Sequence, Value::Seq(items))
            if items.iter().all(|item| matches!(item.value, Value::Map(_))) =>
        {
            let mut combined = MapBuilder::default();
            for item in items.into_iter().rev() {
                if let Value::Map(source) = item.value {
                    for (k, v) in source.entries {
                        combined.insert(k, v);
                    }
                }
            }
            for (k, v) in combined.into_mapping().entries {
                map.insert(k, v);
            }
        }
        (_, other) => map.insert(
            key.node,
            Node {
                value: other,
                span: value.node.span,
            },
        ),
    }
}

/// `!!omap` on a sequence: each element's first key and last value.
fn omap(items: Vec<Node>) -> Result<Value, String> {
    let mut map = MapBuilder::default();
    for item in items {
        match item.value {
            Value::Map(m) if !m.entries.is_empty() => {
                let mut entries = m.entries.into_iter();
                let first = entries.next();
                let last = entries.next_back();
                if let Some((k, v)) = first {
                    let value = last.map_or(v, |(_, v)| v);
                    map.insert(k, value);
                }
            }
            _ => return Err("an !!omap entry must be a non-empty mapping".into()),
        }
    }
    Ok(Value::Map(map.into_mapping()))
}

/// `!!str` on a mapping: Psych makes the string from the `str` key.
fn str_object(mapping: &Mapping) -> Result<Value, String> {
    match mapping.get("str") {
        Some(node) => Ok(node.value.clone()),
        None => Err("can't modify frozen NilClass: nil".into()),
    }
}
