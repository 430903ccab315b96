"""Twists become rules: "gravity reverses every 5 seconds", "after 10 apples the bullets look like apples".

:func:`apply_twists` turns each :class:`~reasoner.intent.Twist` of an intent into rules of
the world being built (timers, counters, variable watches) and says in the trace what
each became — or, for a change the engine cannot make, that it was left out and why.
"""

from __future__ import annotations

from typing import Any

from reasoner import knowledge as kb
from reasoner.builder import Builder, ident
from reasoner.intent import AfterCountTwist, AtTimeTwist, Change, EveryTwist, WhenTwist
from worldgen.spec import Entity


def _validated(e: Entity) -> Entity:
    """Re-validates an entity edited with model_copy (which skips validation)."""
    return Entity.model_validate(e.model_dump())

__all__ = ["apply_twists"]

_EVENT_VERBS = {
    "hit": ("hit", "hits", "touch", "touches", "strike", "strikes", "collide", "collides", "bump", "bumps"),
    "fallen": ("fall", "falls", "fell", "topple", "topples", "tip", "tips", "knocked"),
    "enter": ("enter", "enters", "reach", "reaches", "land", "lands", "go in", "goes in"),
    "leave": ("leave", "leaves", "exit", "exits"),
    "out": ("fall off", "falls off", "fly off", "flies off", "leave the world", "out of bounds"),
}


def apply_twists(b: Builder) -> None:
    """Adds rules for every twist in ``b.intent`` (see the module docstring)."""
    for i, tw in enumerate(b.intent.twists, 1):
        try:
            _apply(b, i, tw)
        except _Skip as why:
            b.note("rules", f"twist '{getattr(tw, 'text', '') or tw}' left out: {why}")


class _Skip(Exception):
    pass


def _tag_for(b: Builder, target: str | None, subject: str | None = None) -> str:
    """The rule target for a twist's ``target`` word: ``$subject``, ``tag:X`` or an entity name."""
    if target in (None, "it", "they", "them"):
        if subject is not None:
            return "$subject"
        target = _main(b)
    if target == "all":
        return "tag:" + _family(b)
    tag = _find_tag(b, target)
    if tag is None:
        raise _Skip(f"nothing in this world is a {target}")
    return "tag:" + tag


def _main(b: Builder) -> str:
    for role in ("projectile", "ball", "cue", "agent", "ship", "rider", "stone", "bob"):
        if b.roles.get(role):
            return role
    return _family(b)


def _family(b: Builder) -> str:
    for role in ("target", "chain", "stack", "cargo", "floater", "object"):
        if b.roles.get(role):
            return role
    return next(iter(b.roles), "ground")


def _find_tag(b: Builder, word: str) -> str | None:
    k = kb.find_kind(word)
    cands = [ident(word), ident(kb.singular(word))]
    if k is not None:
        cands += [ident(k.name), *k.tags]
    tags = {t for e in (*b.entities, *b.templates) for t in e.tags}
    for c in cands:
        if c in tags:
            return c
    if k is not None:  # a kind the template used under a role ("bullets" when the ammo is called shot)
        for role, names in b.roles.items():
            if names and any(e.name in names and e.kind == k.name for e in b.entities):
                return role
        if "projectile" in k.affordances and "projectile" in tags:
            return "projectile"
    return None


def _effects(b: Builder, ch: Change, subject: str | None = None) -> list[dict[str, Any]]:
    g = tuple(b.physics.get("gravity", (0.0, 0.0, -9.81)))
    w, v = ch.what, ch.value
    if w == "reverse_gravity":
        return []  # handled by a toggle (see _every)
    if w == "set_gravity":
        return [{"do": "set_gravity", "gravity": tuple(float(x) for x in v)}]
    if w == "scale_gravity":
        return [{"do": "set_gravity", "gravity": tuple(round(c * float(v or 1), 4) for c in g)}]
    if w == "rotate_gravity":
        mag = max(abs(c) for c in g) or 9.81
        return [{"do": "set_gravity", "gravity": (mag, 0.0, 0.0)}]
    tgt = _tag_for(b, ch.target, subject)
    if w == "look_like":
        noun = str(v or "").strip()[:60] or "something else"
        k = kb.find_kind(noun)
        out = [{"do": "set_property", "target": tgt, "property": "style_prompt", "value": f"looks like {noun}"}]
        if k is not None:
            out.append({"do": "set_property", "target": tgt, "property": "color",
                        "value": k.color or kb.MATERIALS[k.material].color})
            out.append({"do": "set_property", "target": tgt, "property": "look", "value": kb.MATERIALS[k.material].look})
        return out
    if w == "color":
        return [{"do": "set_property", "target": tgt, "property": "color", "value": tuple(v)}]
    if w == "material":
        m = kb.material(str(v))
        return [{"do": "set_property", "target": tgt, "property": p, "value": x}
                for p, x in (("friction", m.friction), ("restitution", m.restitution), ("look", m.look),
                             ("color", m.color))]
    if w in ("hide", "show"):
        return [{"do": "set_property", "target": tgt, "property": "visible", "value": w == "show"}]
    if w == "destroy":
        return [{"do": "destroy", "target": tgt}]
    if w == "set_restitution":
        return [{"do": "set_property", "target": tgt, "property": "restitution", "value": min(1.0, float(v))}]
    if w == "set_friction":
        return [{"do": "set_property", "target": tgt, "property": "friction", "value": min(10.0, float(v))}]
    if w == "scale_mass":
        name = _one_entity(b, tgt)
        mass = min(max(name.mass * float(v or 1), 1e-4), 1e5)
        return [{"do": "set_property", "target": tgt, "property": "mass", "value": round(mass, 5)}]
    if w in ("slow_down", "speed_up"):
        damp = 1.5 if w == "slow_down" else 0.0
        return [{"do": "set_property", "target": tgt, "property": "linear_damping", "value": damp}]
    if w == "spawn":
        name = _one_entity(b, tgt)
        tmpl = f"extra_{ident(name.kind)}"
        if not any(t.name == tmpl for t in b.templates):
            x, y, z = name.position
            b.templates.append(name.model_copy(update={"name": tmpl, "position": (x, y, z + 0.3)}))
        return [{"do": "spawn", "template": tmpl} for _ in range(max(1, min(int(v or 1), 8)))]
    if w == "score":
        return [{"do": "add", "var": _score_var(b), "value": float(v or 1)}]
    if w == "add_time":
        b.var("time_left", 60, min=0, rate=-1)
        return [{"do": "add", "var": "time_left", "value": float(v or 0)}]
    if w == "lose_life":
        b.var("lives", 3, min=0)
        if not any(gl.name == "out_of_lives" for gl in b.goals):
            b.goal("out_of_lives", "lives <= 0", "lose")
        return [{"do": "add", "var": "lives", "value": -1}]
    if w == "end":
        return [{"do": "end", "outcome": v if v in ("win", "lose", "draw", "done") else "done"}]
    if w == "message":
        return [{"do": "message", "text": str(v or ch.text)[:200] or "!"}]
    if w in ("grow", "shrink"):
        raise _Skip("sizes are fixed once a body exists (the engine cannot resize a body at run time)")
    raise _Skip("not understood")


def _one_entity(b: Builder, tgt: str):
    if tgt.startswith("tag:"):
        tag = tgt[4:]
        for e in b.entities:
            if tag in e.tags:
                return e
        for e in b.templates:
            if tag in e.tags:
                return e
    raise _Skip(f"no entity for {tgt}")


def _score_var(b: Builder) -> str:
    for v in ("score", "p1_score", "toppled", "clicks", "removed"):
        if v in b.variables:
            return v
    b.var("score", 0, min=0)
    return "score"


def _apply(b: Builder, i: int, tw) -> None:
    if isinstance(tw, EveryTwist):
        return _every(b, i, tw.every_s, tw.action, tw.text)
    if isinstance(tw, AtTimeTwist):
        if tw.change.what == "reverse_gravity":
            g = tuple(b.physics.get("gravity", (0.0, 0.0, -9.81)))
            eff = [{"do": "set_gravity", "gravity": tuple(-c for c in g)}]
        else:
            eff = _effects(b, tw.change)
        b.rule(f"twist_{i}", {"event": "timer", "at": tw.at_s}, eff + [_msg(tw.text)], once=True)
        b.note("rules", f"twist: at {tw.at_s:g} s → {_describe(eff)}")
        return None
    if isinstance(tw, AfterCountTwist):
        return _after_count(b, i, tw)
    if isinstance(tw, WhenTwist):
        return _when(b, i, tw)
    raise _Skip("not understood")


def _msg(text: str) -> dict:
    return {"do": "message", "text": (text or "twist!")[:200]}


def _describe(eff: list[dict]) -> str:
    parts = []
    for e in eff:
        if e["do"] == "set_gravity":
            parts.append(f"gravity becomes {tuple(round(c, 2) for c in e['gravity'])}")
        elif e["do"] == "set_property":
            parts.append(f"{e['target']}.{e['property']} = {e['value']!r}")
        elif e["do"] == "add":
            parts.append(f"{e['var']} += {e['value']:g}")
        else:
            parts.append(e["do"])
    return ", ".join(parts) or "nothing"


def _every(b: Builder, i: int, every: float, ch: Change, text: str) -> None:
    if ch.what == "reverse_gravity":
        g = tuple(b.physics.get("gravity", (0.0, 0.0, -9.81)))
        flip = f"gravity_flip_{i}"
        b.var(flip, 0, min=0, max=1)
        b.rule(f"twist_{i}_toggle", {"event": "timer", "every": every},
               [{"do": "set", "var": flip, "value": f"1 - {flip}"}])
        b.rule(f"twist_{i}_flip", {"event": "variable", "name": flip},
               [{"do": "set_gravity", "gravity": tuple(-c for c in g)}, _msg(text or "Gravity reversed!")],
               when=f"{flip} == 1")
        b.rule(f"twist_{i}_back", {"event": "variable", "name": flip},
               [{"do": "set_gravity", "gravity": g}, {"do": "message", "text": "Gravity back to normal"}],
               when=f"{flip} == 0")
        b.note("rules", f"twist: every {every:g} s a timer toggles {flip}; when it is 1 gravity points "
                        f"{tuple(-c for c in g)}, when 0 back to {g}")
        return
    eff = _effects(b, ch)
    b.rule(f"twist_{i}", {"event": "timer", "every": every}, eff + [_msg(text)])
    b.note("rules", f"twist: every {every:g} s → {_describe(eff)}")


def _after_count(b: Builder, i: int, tw: AfterCountTwist) -> None:
    counted = tw.what_counted
    var = None
    # the game's own score counts the template's targets ("after 5 pins", "after 10 points")
    tag = _find_tag(b, counted)
    scored_roles = {"target", "chain", "stack", "cargo", "pickup", "object"}
    if counted in ("point", "goal", "basket", "hit", "pin", "target") or tag in scored_roles or any(
            tag in e.tags and scored_roles & set(e.tags) for e in b.entities):
        var = _score_var(b)
    if var is None:
        tag = _find_tag(b, counted)
        if tag is None:
            raise _Skip(f"nothing to count: no {counted} in this world")
        var = f"{ident(counted)}_count"
        b.var(var, 0, min=0)
        hitter = _main(b)
        if tw.event in ("fallen", "knocked"):
            b.rule(f"count_{var}", {"event": "fallen", "tag": tag}, [{"do": "add", "var": var, "value": 1}])
        else:
            b.rule(f"count_{var}", {"event": "collision", "a": hitter, "b": tag},
                   [{"do": "add", "var": var, "value": 1}], cooldown=0.2)
        b.note("rules", f"counting {counted}s: each {hitter}→{tag} contact adds 1 to {var}")
    eff = _effects(b, tw.change) if tw.change.what != "reverse_gravity" else [
        {"do": "set_gravity", "gravity": tuple(-c for c in b.physics.get("gravity", (0.0, 0.0, -9.81)))}]
    when = f"{var} >= {tw.count}" if not tw.repeat else f"{var} > 0 and {var} % {tw.count} == 0"
    b.rule(f"twist_{i}", {"event": "variable", "name": var}, eff + [_msg(tw.text)], when=when, once=not tw.repeat)
    b.note("rules", f"twist: when {when} → {_describe(eff)}" + (" (each time)" if tw.repeat else " (once)"))
    if not tw.repeat:
        _restyle_spawns(b, eff, when)


def _restyle_spawns(b: Builder, eff: list[dict], when: str) -> None:
    """Things spawned after a look change must look changed too: spawn a restyled copy of their template."""
    looks = [e for e in eff if e["do"] == "set_property" and e["property"] in ("color", "look", "style_prompt")
             and e["target"].startswith("tag:")]
    for tag in dict.fromkeys(e["target"][4:] for e in looks):
        for t_i, tmpl in enumerate(list(b.templates)):
            if tag not in tmpl.tags:
                continue
            app = tmpl.appearance.model_copy(update={e["property"]: e["value"] for e in looks if e["target"][4:] == tag})
            new = tmpl.model_copy(update={"name": f"{tmpl.name}_restyled"[:64], "appearance": app})
            new = _validated(new)
            b.templates.append(new)
            for r_i, r in enumerate(list(b.rules)):
                if not any(d.do == "spawn" and d.template == tmpl.name for d in r.do):
                    continue
                before = f"not ({when})" if not r.when else f"({r.when}) and not ({when})"
                after = when if not r.when else f"({r.when}) and ({when})"
                b.rules[r_i] = r.model_copy(update={"when": before})
                do = [d.model_copy(update={"template": new.name}) if d.do == "spawn" and d.template == tmpl.name
                      else d for d in r.do]
                b.rules.append(r.model_copy(update={"name": b.unique_rule(f"{r.name}_restyled"), "when": after,
                                                    "do": do}))
                b.note("rules", f"from then on '{r.name}' spawns {new.name}, which already has the new look")


def _when(b: Builder, i: int, tw: WhenTwist) -> None:
    cond = tw.condition.lower()
    words = [w for w in cond.replace(",", " ").split() if w]
    kinds = []
    for j in range(len(words)):
        for L in (3, 2, 1):
            phrase = " ".join(words[j:j + L])
            if len(phrase.split()) == L and _find_tag(b, phrase):
                kinds.append(_find_tag(b, phrase))
                break
    kinds = list(dict.fromkeys(kinds))
    verb = next((v for v, forms in _EVENT_VERBS.items() if any(f" {f} " in f" {cond} " for f in forms)), None)
    if verb == "hit" and len(kinds) >= 2:
        on = {"event": "collision", "a": kinds[0], "b": kinds[1], "min_impulse": 0.05}
        subject = kinds[0]
    elif verb == "hit" and len(kinds) == 1:
        on = {"event": "collision", "a": kinds[0], "b": _family(b) if _family(b) != kinds[0] else "ground",
              "min_impulse": 0.05}
        subject = kinds[0]
    elif verb in ("fallen",) and kinds:
        on = {"event": "fallen", "tag": kinds[0]}
        subject = kinds[0]
    elif verb == "out" and kinds:
        on = {"event": "out_of_bounds", "tag": kinds[0]}
        subject = kinds[0]
    elif verb in ("enter", "leave") and kinds:
        zones = [e.name for e in b.entities if e.sensor]
        if not zones:
            raise _Skip("there is no zone to enter in this world")
        on = {"event": verb, "zone": zones[0], "tag": kinds[0]}
        subject = kinds[0]
    else:
        raise _Skip(f"condition '{tw.condition}' not understood (known: X hits Y, X falls, X enters/leaves)")
    eff = _effects(b, tw.change, subject=subject) if tw.change.what != "reverse_gravity" else [
        {"do": "set_gravity", "gravity": tuple(-c for c in b.physics.get("gravity", (0.0, 0.0, -9.81)))}]
    b.rule(f"twist_{i}", on, eff + [_msg(tw.text)], cooldown=0.5)
    b.note("rules", f"twist: on {on['event']} of {subject} → {_describe(eff)}")
